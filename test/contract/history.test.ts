import type { HistoryStore } from '../../code/history/history';
import type { ChatMessage } from '../../code/chat/protocol';
import { createMessageIdSource } from '../../code/chat/message-id';
import { implementations } from './implementations';

/** What every HistoryStore promises (code/history/history.ts), checked on the fake and on COS alike. */

describe.each(implementations())('HistoryStore: $name', (implementation) => {
  beforeAll(() => implementation.start());
  afterAll(() => implementation.stop());

  /** A clock that starts now and moves only when told, so that age limits are tested without waiting. */
  function setup(retention = { limit: 3, maxAgeMs: 60_000 }) {
    let offset = 0;
    const clock = () => Date.now() + offset;
    const history = implementation.history(retention, clock);
    const ids = createMessageIdSource(() => '00000000');
    let ts = Date.now();
    const append = async (history: HistoryStore, room: string, ...texts: string[]) => {
      const messages: ChatMessage[] = [];
      for (const text of texts) {
        ts += 1;
        const message = { id: ids.next(ts), room, from: 'a', tag: 't', text, ts };
        await history.append(message);
        messages.push(message);
      }
      return messages;
    };
    return { history, append, advance: (ms: number) => (offset += ms) };
  }

  const texts = (page: { messages: ChatMessage[] }) => page.messages.map((m) => m.text);

  it('answers the latest messages oldest first, and says whether older ones are kept', async () => {
    const { history, append } = setup();
    await append(history, 'r', 'm1', 'm2');
    await append(history, 'other', 'x');
    expect(await history.recent('r', { limit: 10 })).toMatchObject({ more: false });
    expect(texts(await history.recent('r', { limit: 10 }))).toEqual(['m1', 'm2']);
    const latest = await history.recent('r', { limit: 1 });
    expect(texts(latest)).toEqual(['m2']);
    expect(latest.more).toBe(true);
    expect(await history.recent('empty', { limit: 10 })).toEqual({ messages: [], more: false });
  });

  it('pages forward after a cursor, oldest first', async () => {
    const { history, append } = setup({ limit: 10, maxAgeMs: 60_000 });
    const [first] = await append(history, 'r', 'm1', 'm2', 'm3', 'm4');
    const next = await history.recent('r', { since: first!.id, limit: 2 });
    expect(texts(next)).toEqual(['m2', 'm3']);
    expect(next.more).toBe(true);
    const last = await history.recent('r', { since: next.messages[1]!.id, limit: 2 });
    expect(texts(last)).toEqual(['m4']);
    expect(last.more).toBe(false);
  });

  it('answers at most the retained count, and trims the rest', async () => {
    const { history, append } = setup({ limit: 3, maxAgeMs: 60_000 });
    await append(history, 'r', 'm1', 'm2', 'm3', 'm4', 'm5');
    expect(texts(await history.recent('r', { limit: 10 }))).toEqual(['m3', 'm4', 'm5']);
    expect(await history.trim()).toBe(2);
    expect(await history.recent('r', { limit: 10 })).toMatchObject({ more: false });
    expect(texts(await history.recent('r', { limit: 10 }))).toEqual(['m3', 'm4', 'm5']);
    expect(await history.trim()).toBe(0);
  });

  it('forgets messages past the age limit, and trims them', async () => {
    const { history, append, advance } = setup({ limit: 10, maxAgeMs: 60_000 });
    await append(history, 'r', 'old');
    advance(120_000);
    expect(await history.recent('r', { limit: 10 })).toEqual({ messages: [], more: false });
    expect(await history.trim()).toBe(1);
  });

  it('keeps nothing with a limit of 0', async () => {
    const { history, append } = setup({ limit: 0, maxAgeMs: 60_000 });
    await append(history, 'r', 'm1');
    expect(await history.recent('r', { limit: 10 })).toEqual({ messages: [], more: false });
    expect(await history.trim()).toBe(0);
  });

  it('pages backwards before a cursor, oldest first, and says whether older ones are kept', async () => {
    const { history, append } = setup({ limit: 10, maxAgeMs: 60_000 });
    const sent = await append(history, 'r', 'm1', 'm2', 'm3', 'm4', 'm5');
    const page = await history.recent('r', { before: sent[4]!.id, limit: 2 });
    expect(texts(page)).toEqual(['m3', 'm4']);
    expect(page.more).toBe(true);
    const oldest = await history.recent('r', { before: page.messages[0]!.id, limit: 2 });
    expect(texts(oldest)).toEqual(['m1', 'm2']);
    expect(oldest.more).toBe(false);
    expect(await history.recent('r', { before: sent[0]!.id, limit: 2 })).toEqual({
      messages: [],
      more: false,
    });
  });

  it('pages backwards only through what retention keeps', async () => {
    const { history, append } = setup({ limit: 3, maxAgeMs: 60_000 });
    const sent = await append(history, 'r', 'm1', 'm2', 'm3', 'm4', 'm5');
    const page = await history.recent('r', { before: sent[4]!.id, limit: 10 });
    expect(texts(page)).toEqual(['m3', 'm4']);
    expect(page.more).toBe(false);
  });

  it('says "gap" when the catch-up cursor is older than everything kept, and only then', async () => {
    const { history, append } = setup({ limit: 3, maxAgeMs: 60_000 });
    const sent = await append(history, 'r', 'm1', 'm2', 'm3', 'm4', 'm5');
    // m3 is the oldest kept: catching up from it loses nothing.
    const fromKept = await history.recent('r', { since: sent[2]!.id, limit: 10 });
    expect(texts(fromKept)).toEqual(['m4', 'm5']);
    expect(fromKept.gap).toBeUndefined();
    // m2 is past the limit: m3 may not have been the next message after it.
    const fromDropped = await history.recent('r', { since: sent[1]!.id, limit: 10 });
    expect(texts(fromDropped)).toEqual(['m3', 'm4', 'm5']);
    expect(fromDropped.gap).toBe(true);
    // A cursor newer than the newest kept message is no gap: nothing came after it.
    expect((await history.recent('r', { since: sent[4]!.id, limit: 10 })).gap).toBeUndefined();
    // The latest page and older pages never carry it.
    expect((await history.recent('r', { limit: 10 })).gap).toBeUndefined();
  });

  it('no "gap" in a room that has dropped nothing, even from a cursor older than everything kept', async () => {
    const { history, append } = setup({ limit: 10, maxAgeMs: 60_000 });
    const sent = await append(history, 'r', 'm1', 'm2');
    // A time cursor from before the first message (a client that joined the room while it was empty).
    const cursor = sent[0]!.id.slice(0, 9);
    const page = await history.recent('r', { since: cursor, limit: 10 });
    expect(texts(page)).toEqual(['m1', 'm2']);
    expect(page.gap).toBeUndefined();
  });

  it('says "gap" when the room keeps nothing any more (all past the age limit)', async () => {
    const { history, append, advance } = setup({ limit: 10, maxAgeMs: 60_000 });
    const [old] = await append(history, 'r', 'old');
    advance(120_000);
    expect(await history.recent('r', { since: old!.id, limit: 10 })).toEqual({
      messages: [],
      more: false,
      gap: true,
    });
  });

  it('counts the kept messages after a cursor (all without one), at most the cap, in that room only', async () => {
    const { history, append, advance } = setup({ limit: 4, maxAgeMs: 60_000 });
    const sent = await append(history, 'r', 'm1', 'm2', 'm3');
    await append(history, 'other', 'x', 'y');
    expect(await history.countAfter('r', sent[0]!.id, 10)).toEqual({ count: 2, capped: false });
    expect(await history.countAfter('r', sent[2]!.id, 10)).toEqual({ count: 0, capped: false });
    expect(await history.countAfter('r', undefined, 10)).toEqual({ count: 3, capped: false });
    expect(await history.countAfter('r', undefined, 2)).toEqual({ count: 2, capped: true });
    expect(await history.countAfter('r', sent[0]!.id, 1)).toEqual({ count: 1, capped: true });
    expect(await history.countAfter('empty', undefined, 10)).toEqual({ count: 0, capped: false });
    // Only what retention keeps: the newest `limit`, none past the age limit.
    await append(history, 'r', 'm4', 'm5');
    expect(await history.countAfter('r', undefined, 10)).toEqual({ count: 4, capped: false });
    advance(120_000);
    expect(await history.countAfter('r', sent[0]!.id, 10)).toEqual({ count: 0, capped: false });
  });

  it('knows which messages it holds', async () => {
    const { history, append } = setup({ limit: 10, maxAgeMs: 60_000 });
    const [kept] = await append(history, 'r', 'kept');
    expect(await history.has(kept!)).toBe(true);
    expect(await history.has({ ...kept!, id: `${kept!.id.slice(0, -1)}x` })).toBe(false);
  });

  it('lets one message claim a client id per room; later claims get the first message back', async () => {
    const { history } = setup({ limit: 10, maxAgeMs: 60_000 });
    const first = { id: '0mwr68d6j000aaaa', room: 'r', from: 'a', tag: 't', text: 'one', ts: 1, cid: 'c-1' };
    expect(await history.claim(first)).toBeUndefined();
    const again = await history.claim({ ...first, id: '0mwr68d6j001bbbb', text: 'retry' });
    expect(again).toEqual({ message: first, undelivered: false });
    // Another room, another claim.
    expect(await history.claim({ ...first, room: 'other' })).toBeUndefined();
    await history.markUndelivered(first);
    expect(await history.claim({ ...first, id: '0mwr68d6j002cccc' })).toEqual({
      message: first,
      undelivered: true,
    });
  });

  it('trims claims past the age limit, so that an old client id may be used again', async () => {
    const { history, advance } = setup({ limit: 10, maxAgeMs: 60_000 });
    const first = { id: '0mwr68d6j000aaaa', room: 'r', from: 'a', tag: 't', text: 'one', ts: 1, cid: 'old' };
    expect(await history.claim(first)).toBeUndefined();
    await history.trim();
    expect(await history.claim({ ...first, id: '0mwr68d6j001bbbb' })).toMatchObject({ message: first });
    advance(120_000);
    await history.trim();
    expect(await history.claim({ ...first, id: '0mwr68d6j002cccc' })).toBeUndefined();
  });

  it('lets exactly one of many concurrent claims of a client id win', async () => {
    const { history } = setup({ limit: 10, maxAgeMs: 60_000 });
    const attempts = Array.from({ length: 8 }, (_, index) => ({
      id: `0mwr68d6j00${index}aaaa`,
      room: 'r',
      from: 'a',
      tag: 't',
      text: `attempt ${index}`,
      ts: 1,
      cid: 'same',
    }));
    const results = await Promise.all(attempts.map((attempt) => history.claim(attempt)));
    const winners = results.filter((result) => result === undefined);
    expect(winners).toHaveLength(1);
    const winner = attempts[results.indexOf(undefined)]!;
    for (const result of results) if (result) expect(result.message).toEqual(winner);
  });
});
