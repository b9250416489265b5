import type { Connection } from '../../code/registry/registry';
import { collect, implementations } from './implementations';

/** What every ConnectionRegistry promises (code/registry/registry.ts), checked on the fake and on COS alike. */

// Base64 connection IDs may hold '/', '+' and '=' (see code/registry/keys.ts).
const alice: Connection = { id: 'a/b+c=', room: 'lobby', nick: 'alice', connectedAt: 1 };
const bob: Connection = { id: 'bob=', room: 'lobby', nick: 'bob', connectedAt: 2 };

describe.each(implementations())('ConnectionRegistry: $name', (implementation) => {
  beforeAll(() => implementation.start());
  afterAll(() => implementation.stop());

  const ids = async (pages: AsyncIterable<Array<{ id: string }>>) =>
    (await collect(pages)).map((m) => m.id).sort();

  it('finds what it added and lists it in its room, seen about now', async () => {
    const registry = implementation.registry();
    const before = Date.now();
    await registry.add(alice);
    await registry.add(bob);
    const after = Date.now();
    expect(await registry.find(alice.id)).toEqual(alice);
    expect(await registry.find('nobody=')).toBeUndefined();
    const members = await collect(registry.members('lobby'));
    expect(members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
    // COS keeps LastModified to the second.
    for (const member of members) {
      expect(member.lastSeen).toBeGreaterThanOrEqual(before - 1000);
      expect(member.lastSeen).toBeLessThanOrEqual(after + 1000);
    }
    expect(await collect(registry.members('elsewhere'))).toEqual([]);
  });

  it('lists a member with the version versionOf gives its nick, and another after a rename', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    const [listed] = await collect(registry.members('lobby'));
    expect(listed!.version).toBe(registry.versionOf(alice));
    const renamed = { ...alice, nick: 'alicia' };
    await registry.update(renamed, alice.room);
    const [relisted] = await collect(registry.members('lobby'));
    expect(relisted!.version).toBe(registry.versionOf(renamed));
    expect(relisted!.version).not.toBe(registry.versionOf(alice));
  });

  it('keeps the version with the membership: it does not change when the record is lost', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    await registry.remove([{ id: alice.id }]);
    expect(await registry.find(alice.id)).toBeUndefined();
    const [listed] = await collect(registry.members('lobby'));
    expect(listed).toMatchObject({ id: alice.id, version: registry.versionOf(alice) });
  });

  it('pages a room with memberPage: every member once, `next` on all pages but the last', async () => {
    const registry = implementation.registry();
    const people = ['p/1=', 'p+2', 'p3=', 'p4', 'p5'].map((id, n): Connection => ({
      id,
      room: 'paged',
      nick: `n${n}`,
      connectedAt: n,
    }));
    for (const person of people) await registry.add(person);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await registry.memberPage('paged', { after, limit: 2 });
      expect(page.members.length).toBeLessThanOrEqual(2);
      seen.push(...page.members.map((m) => m.id));
      after = page.next;
      pages += 1;
    } while (after !== undefined);
    expect(seen.sort()).toEqual(people.map((p) => p.id).sort());
    expect(pages).toBe(3);
    expect(await registry.memberPage('nobody-here', { limit: 2 })).toEqual({ members: [] });
  });

  it("keeps a connection's tag in its record", async () => {
    const registry = implementation.registry();
    const tagged = { ...alice, tag: '0f0f' };
    await registry.add(tagged);
    expect(await registry.find(alice.id)).toEqual(tagged);
  });

  it('moves a connection between rooms', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    const moved = { ...alice, room: 'dev' };
    await registry.update(moved, alice.room);
    expect(await registry.find(alice.id)).toEqual(moved);
    expect(await ids(registry.members('lobby'))).toEqual([]);
    expect(await ids(registry.members('dev'))).toEqual([alice.id]);
  });

  it('leave removes memberships only; touch brings a pruned membership back', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    await registry.leave([{ id: alice.id, room: 'lobby' }]);
    expect(await ids(registry.members('lobby'))).toEqual([]);
    expect(await registry.find(alice.id)).toEqual(alice);
    await registry.touch(alice);
    expect(await ids(registry.members('lobby'))).toEqual([alice.id]);
    await registry.leave([]);
  });

  it('remove deletes records, and memberships where the room is given; twice is fine', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    await registry.add(bob);
    await registry.remove([{ id: alice.id, room: 'lobby' }, { id: bob.id }]);
    await registry.remove([{ id: alice.id, room: 'lobby' }]);
    await registry.remove([]);
    expect(await registry.find(alice.id)).toBeUndefined();
    expect(await registry.find(bob.id)).toBeUndefined();
    expect(await ids(registry.members('lobby'))).toEqual([bob.id]);
  });

  it('lists every membership of every room, and every record, for the sweep', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    await registry.add({ ...bob, room: 'dev' });
    await registry.leave([{ id: bob.id, room: 'dev' }]);
    const members = await collect(registry.allMembers());
    expect(members).toEqual([
      { id: alice.id, room: 'lobby', lastSeen: expect.any(Number), version: registry.versionOf(alice) },
    ]);
    const records = await collect(registry.allRecords());
    expect(records.map((r) => r.id).sort()).toEqual([alice.id, bob.id].sort());
    for (const record of records) expect(record.lastSeen).toEqual(expect.any(Number));
  });
  it('logs joins, renames, moves and leaves in each room, oldest first, from a time on', async () => {
    const registry = implementation.registry();
    const start = Date.now();
    await registry.add(alice);
    await registry.add(bob);
    await registry.update({ ...alice, nick: 'alicia' }, 'lobby');
    await registry.update({ ...bob, room: 'dev' }, 'lobby');
    await registry.remove([{ id: alice.id, room: 'lobby' }]);
    const lobby = await collect(registry.roomLog('lobby', start - 1000));
    // In order for each connection (entries of different connections in the same millisecond may sort by ID).
    const of = (id: string) => lobby.filter((e) => e.id === id);
    expect(of(alice.id).map((e) => e.kind)).toEqual(['join', 'join', 'leave']);
    expect(of(bob.id).map((e) => e.kind)).toEqual(['join', 'leave']);
    expect(lobby.map((e) => e.at)).toEqual([...lobby.map((e) => e.at)].sort((x, y) => x - y));
    // A join carries the version the member has with that nick; every entry has its own key.
    expect(of(alice.id)[0]!.version).toBe(registry.versionOf(alice));
    expect(of(alice.id)[1]!.version).toBe(registry.versionOf({ ...alice, nick: 'alicia' }));
    expect(new Set(lobby.map((e) => e.key)).size).toBe(lobby.length);
    for (const event of lobby) {
      expect(event.at).toBeGreaterThanOrEqual(start - 1000);
      expect(event.at).toBeLessThanOrEqual(Date.now());
    }
    expect((await collect(registry.roomLog('dev', start - 1000))).map((e) => [e.kind, e.id])).toEqual([
      ['join', bob.id],
    ]);
    // From a later time on, only what was written since.
    expect(await collect(registry.roomLog('lobby', Date.now() + 1000))).toEqual([]);
    // A pruned member (leave) is not logged: its roster learns that on its own.
    await registry.leave([{ id: bob.id, room: 'dev' }]);
    expect(await collect(registry.roomLog('dev', start - 1000))).toHaveLength(1);
  });

  it('trims log entries written before a time, in every room', async () => {
    const registry = implementation.registry();
    await registry.add(alice);
    await registry.add({ ...bob, room: 'dev' });
    expect(await registry.trimRoomLogs(Date.now() - 60_000)).toBe(0);
    expect(await registry.trimRoomLogs(Date.now() + 1000)).toBe(2);
    expect(await collect(registry.roomLog('lobby', 0))).toEqual([]);
    expect(await collect(registry.roomLog('dev', 0))).toEqual([]);
    // Memberships are not log entries.
    expect(await ids(registry.members('lobby'))).toEqual([alice.id]);
  });
});
