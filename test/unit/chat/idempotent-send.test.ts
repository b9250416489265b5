import { createChatService } from '../../../code/chat/chat-service';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import { silentLogger } from '../../../code/chat/log';
import { connectProtocols, parseClientFrame, ProtocolError } from '../../../code/chat/protocol';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from '../../helpers/fakes';

/** Sends with a client message id (`cid`): a retry is stored and delivered once, and acknowledged as such. */

function setup() {
  const registry = new MemoryRegistry();
  const history = new MemoryHistory();
  const push = new RecordingPush();
  /** A warm container; two of them share the stores, as SCF instances share COS. */
  const container = () =>
    createChatService({
      registry,
      history,
      push,
      rateLimiter: createRateLimiter(1000, 1000),
      settings: { limits: TEST_LIMITS, defaultRoom: 'lobby', pushConcurrency: 4, broadcastBudgetMs: 5000 },
      log: silentLogger,
    });
  const first = container();
  const second = container();
  const connect = (id: string, nick: string) =>
    first.connect({ connectionId: id, protocols: connectProtocols({ nick }) });
  const sendVia = (chat: typeof first, id: string, command: object) =>
    chat.receive({ connectionId: id, frameType: 'text', data: JSON.stringify(command) });
  const messagesTo = (id: string) => push.to(id).filter((frame) => frame.type === 'message');
  const acksTo = (id: string) =>
    push.to(id).filter((frame) => frame.type === 'ack' && frame.for === 'message');
  return { registry, history, push, first, second, connect, sendVia, messagesTo, acksTo };
}

describe('idempotent sends (cid)', () => {
  it('stores and delivers a retried send once; the retry is acknowledged with the original id', async () => {
    const { history, first, connect, sendVia, messagesTo, acksTo } = setup();
    await connect('a=', 'alice');
    await connect('b=', 'bob');
    const command = { type: 'message', text: 'hello', cid: 'c-1', ref: 'm1' };
    await sendVia(first, 'a=', command);
    await sendVia(first, 'a=', { ...command, ref: 'm2' });
    expect(history.messages.map((m) => m.text)).toEqual(['hello']);
    expect(messagesTo('b=')).toHaveLength(1);
    expect(messagesTo('b=')[0]).toMatchObject({ text: 'hello', cid: 'c-1' });
    const [ack, retryAck] = acksTo('a=');
    expect(ack).toMatchObject({ ref: 'm1', stored: true });
    expect(ack!.duplicate).toBeUndefined();
    expect(retryAck).toMatchObject({ ref: 'm2', id: ack!.id, duplicate: true, stored: true, delivered: 0 });
  });

  it('recognises a retry from a new connection on another container (after a reconnect)', async () => {
    const { history, first, second, connect, sendVia, messagesTo, acksTo } = setup();
    await connect('a1=', 'alice');
    await connect('b=', 'bob');
    await sendVia(first, 'a1=', { type: 'message', text: 'hi', cid: 'xyz' });
    await connect('a2=', 'alice');
    await sendVia(second, 'a2=', { type: 'message', text: 'hi', cid: 'xyz', ref: 'again' });
    expect(history.messages).toHaveLength(1);
    expect(messagesTo('b=')).toHaveLength(1);
    expect(acksTo('a2=')).toEqual([
      expect.objectContaining({ ref: 'again', id: history.messages[0]!.id, duplicate: true }),
    ]);
  });

  it('delivers a retry whose first attempt claimed the id but never stored the message', async () => {
    const { history, first, connect, sendVia, messagesTo, acksTo } = setup();
    await connect('a=', 'alice');
    await connect('b=', 'bob');
    // The first attempt died after its claim (as if its container was stopped half-way).
    const claimed = {
      id: '0mwr68d6j000dead',
      room: 'lobby',
      from: 'alice',
      tag: 'ffff',
      text: 'lost?',
      ts: 1,
    };
    await history.claim({ ...claimed, cid: 'half' });
    await sendVia(first, 'a=', { type: 'message', text: 'lost?', cid: 'half', ref: 'r' });
    expect(history.messages.map((m) => m.id)).toEqual([claimed.id]);
    expect(messagesTo('b=')).toEqual([expect.objectContaining({ id: claimed.id, text: 'lost?' })]);
    expect(acksTo('a=')).toEqual([
      expect.objectContaining({ id: claimed.id, duplicate: true, stored: true }),
    ]);
  });

  it('different ids, or the same id in another room, are different messages', async () => {
    const { history, first, connect, sendVia } = setup();
    await connect('a=', 'alice');
    await sendVia(first, 'a=', { type: 'message', text: 'one', cid: 'k1' });
    await sendVia(first, 'a=', { type: 'message', text: 'two', cid: 'k2' });
    await sendVia(first, 'a=', { type: 'join', room: 'dev' });
    await sendVia(first, 'a=', { type: 'message', text: 'three', cid: 'k1' });
    expect(history.messages.map((m) => [m.room, m.text])).toEqual([
      ['lobby', 'one'],
      ['lobby', 'two'],
      ['dev', 'three'],
    ]);
  });

  it('a claim that cannot be written sends nothing and says so', async () => {
    const { history, push, first, connect, sendVia, messagesTo } = setup();
    await connect('a=', 'alice');
    await connect('b=', 'bob');
    history.failClaim = true;
    await sendVia(first, 'a=', { type: 'message', text: 'x', cid: 'c', ref: 'r' });
    expect(history.messages).toEqual([]);
    expect(messagesTo('b=')).toEqual([]);
    expect(push.to('a=').at(-1)).toMatchObject({ type: 'error', code: 'store_unavailable', ref: 'r' });
  });
});

describe('idempotent publish (cid)', () => {
  it('publishes a retried request once and answers the retry with the original id', async () => {
    const { history, first, second, connect, messagesTo } = setup();
    await connect('b=', 'bob');
    const once = await first.publish({ room: 'lobby', text: 'deployed', from: 'ci', cid: 'build-42' });
    const again = await second.publish({ room: 'lobby', text: 'deployed', from: 'ci', cid: 'build-42' });
    expect(once.duplicate).toBeUndefined();
    expect(again).toMatchObject({ id: once.id, duplicate: true, delivered: 0, stored: true });
    expect(history.messages.map((m) => m.text)).toEqual(['deployed']);
    expect(messagesTo('b=')).toEqual([
      expect.objectContaining({ id: once.id, cid: 'build-42', source: 'api' }),
    ]);
  });

  it('refuses a malformed cid', async () => {
    const { first } = setup();
    await expect(first.publish({ room: 'lobby', text: 'x', cid: 'not ok' })).rejects.toMatchObject({
      code: 'bad_frame',
    });
  });
});

describe('parsing cid and before', () => {
  it('accepts 1-64 characters of [A-Za-z0-9_-] as cid', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'message', text: 'x', cid: 'aZ0_-' }))).toEqual({
      type: 'message',
      text: 'x',
      cid: 'aZ0_-',
    });
    expect(
      parseClientFrame(JSON.stringify({ type: 'message', text: 'x', cid: 'a'.repeat(64) })),
    ).toMatchObject({
      cid: 'a'.repeat(64),
    });
  });

  it.each([[''], ['a'.repeat(65)], ['has space'], ['ünï'], ['a/b'], [5]])(
    'refuses cid %j with bad_frame',
    (cid) => {
      const frame = JSON.stringify({ type: 'message', text: 'x', cid, ref: 'r' });
      expect(() => parseClientFrame(frame)).toThrow(ProtocolError);
      try {
        parseClientFrame(frame);
      } catch (error) {
        expect(error).toMatchObject({ code: 'bad_frame', ref: 'r' });
      }
    },
  );

  it('refuses since together with before', () => {
    expect(() =>
      parseClientFrame(JSON.stringify({ type: 'history', since: '0mwr68d6j', before: '0mwr68d6k' })),
    ).toThrow(/"since" and "before" cannot be used together/);
  });

  it('reads before', () => {
    expect(
      parseClientFrame(JSON.stringify({ type: 'history', before: '0mwr68d6j', limit: 5 })),
    ).toMatchObject({
      type: 'history',
      before: '0mwr68d6j',
      limit: 5,
    });
  });
});
