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
});
