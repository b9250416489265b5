import { createRosterCache, type RosterCacheOptions } from '../../../code/chat/roster-cache';
import type { Connection, ConnectionRegistry } from '../../../code/registry/registry';
import { MemoryRegistry } from '../../helpers/fakes';

/** The roster cache of one container over the in-memory registry, with a clock the test moves. */
function setup(options: Partial<RosterCacheOptions> = {}) {
  let now = 1_800_000_000_000;
  const clock = () => now;
  const registry = new MemoryRegistry(clock);
  let fullListings = 0;
  let logReads = 0;
  // What the cache asks of the registry, counted: full listings of a room, and listings of its log.
  const counted: Pick<ConnectionRegistry, 'members' | 'roomLog'> = {
    members: (room) => {
      fullListings += 1;
      return registry.members(room);
    },
    roomLog: (room, since) => {
      logReads += 1;
      return registry.roomLog(room, since);
    },
  };
  const cache = createRosterCache(counted, clock, {
    overlapMs: 5_000,
    fullEveryMs: 60_000,
    maxRooms: 10,
    ...options,
  });
  const person = (id: string, room = 'lobby'): Connection => ({ id, room, nick: id, connectedAt: now });
  const ids = async (room = 'lobby') => [...(await cache.read(room, 0)).keys()].sort();
  return {
    cache,
    registry,
    person,
    ids,
    advance: (ms: number) => (now += ms),
    at: (ms: number) => (now = ms),
    now: () => now,
    fullListings: () => fullListings,
    logReads: () => logReads,
  };
}

describe('roster cache', () => {
  it('lists a room in full once, then learns joins and leaves from the room log alone', async () => {
    const { cache, registry, person, ids, advance, fullListings, logReads } = setup();
    await registry.add(person('a='));
    await registry.add(person('b='));
    expect(await ids()).toEqual(['a=', 'b=']);
    expect(fullListings()).toBe(1);
    advance(1000);
    await registry.add(person('c='));
    await registry.remove([{ id: 'a=', room: 'lobby' }]);
    expect(await ids()).toEqual(['b=', 'c=']);
    await registry.update({ ...person('b='), room: 'dev' }, 'lobby');
    advance(1000);
    expect(await ids()).toEqual(['c=']);
    expect(fullListings()).toBe(1);
    // The full listing needs no log; each catch-up after it is one log listing.
    expect(logReads()).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('serves reads younger than maxAgeMs without a request', async () => {
    const { cache, registry, person, advance, logReads } = setup();
    await registry.add(person('a='));
    await cache.read('lobby', 1000);
    advance(999);
    await cache.read('lobby', 1000);
    expect(logReads()).toBe(0);
    advance(1);
    await cache.read('lobby', 1000);
    expect(logReads()).toBe(1);
  });

  it('sees a join stamped before its last catch-up but stored after it (within the overlap)', async () => {
    const { registry, person, ids, advance, at, now } = setup();
    await registry.add(person('a='));
    expect(await ids()).toEqual(['a=']);
    const caughtUp = now();
    advance(3000);
    // Another container stamped this join 2 s before our catch-up; its write landed only now.
    at(caughtUp - 2000);
    await registry.add(person('late='));
    at(caughtUp + 3000);
    expect(await ids()).toEqual(['a=', 'late=']);
  });

  it('keeps a member dropped for a 410 dropped, though the overlap lists its join again', async () => {
    const { cache, registry, person, ids, advance } = setup();
    await registry.add(person('a='));
    await registry.add(person('gone='));
    expect(await ids()).toEqual(['a=', 'gone=']);
    cache.forget('lobby', ['gone=']);
    advance(1000);
    expect(await ids()).toEqual(['a=']);
  });

  it('does not bring back a member dropped for a 410 from a full listing made before its prune landed', async () => {
    const { cache, registry, person, ids, advance } = setup();
    await registry.add(person('a='));
    await registry.add(person('gone='));
    expect(await ids()).toEqual(['a=', 'gone=']);
    advance(60_000);
    // The prune of its membership failed (or is still on its way): the listing still shows it.
    cache.forget('lobby', ['gone=']);
    expect(await ids()).toEqual(['a=']);
  });

  it('lists the room in full again after fullEveryMs: last-seen times refresh, unlogged prunes show', async () => {
    const { cache, registry, person, advance, fullListings } = setup();
    await registry.add(person('a='));
    await registry.add(person('b='));
    await cache.read('lobby', 0);
    advance(30_000);
    await registry.touch(person('a='));
    await registry.leave([{ id: 'b=', room: 'lobby' }]);
    // Neither shows in the log: b= is still cached, a='s last-seen is its join.
    const before = await cache.read('lobby', 0);
    expect([...before.keys()].sort()).toEqual(['a=', 'b=']);
    const joinedAt = before.get('a=')!.lastSeen;
    advance(30_000);
    const after = await cache.read('lobby', 0);
    expect(fullListings()).toBe(2);
    expect([...after.keys()]).toEqual(['a=']);
    expect(after.get('a=')!.lastSeen).toBe(joinedAt + 30_000);
  });

  it('counts a heartbeat this container wrote, and a restored membership', async () => {
    const { cache, registry, person, advance } = setup();
    await registry.add(person('a='));
    await cache.read('lobby', 0);
    advance(5000);
    cache.touched('lobby', 'a=', 1_800_000_005_000, 'nick:a=');
    cache.touched('lobby', 'back=', 1_800_000_005_000, 'nick:back=');
    const members = await cache.read('lobby', 1000);
    expect(members.get('a=')!.lastSeen).toBe(1_800_000_005_000);
    expect(members.get('back=')).toEqual({ lastSeen: 1_800_000_005_000, version: 'nick:back=' });
  });

  it('shares one catch-up between reads that arrive while it is in flight', async () => {
    const { cache, registry, person, logReads, fullListings } = setup();
    await registry.add(person('a='));
    await Promise.all([cache.read('lobby', 0), cache.read('lobby', 0), cache.read('lobby', 0)]);
    expect(fullListings()).toBe(1);
    await Promise.all([cache.read('lobby', 0), cache.read('lobby', 0), cache.read('lobby', 0)]);
    expect(logReads()).toBe(1);
  });

  it('keeps the last good roster when a listing fails, and tries again on the next read', async () => {
    const { cache, registry, person, ids, advance } = setup();
    await registry.add(person('a='));
    expect(await ids()).toEqual(['a=']);
    await registry.add(person('b='));
    registry.failNext.roomLog = new Error('COS down');
    await expect(cache.read('lobby', 0)).rejects.toThrow('COS down');
    advance(10);
    expect(await ids()).toEqual(['a=', 'b=']);
  });

  it('holds at most maxRooms rooms, forgetting the least recently read', async () => {
    const { cache, registry, person, fullListings } = setup({ maxRooms: 2 });
    await registry.add(person('a=', 'one'));
    await cache.read('one', 0);
    await cache.read('two', 0);
    await cache.read('one', 0);
    await cache.read('three', 0);
    expect(cache.size).toBe(2);
    expect(fullListings()).toBe(3);
    // 'two' was forgotten, 'one' was not.
    await cache.read('one', 0);
    expect(fullListings()).toBe(3);
    await cache.read('two', 0);
    expect(fullListings()).toBe(4);
  });
});
