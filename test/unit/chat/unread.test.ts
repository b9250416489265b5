import { createLogger } from '../../../code/chat/log';
import { issueToken } from '../../../code/chat/token';
import { StoreError } from '../../../code/util/store-error';
import { setupChat } from '../../helpers/chat-commands';
import { MemoryHistory } from '../../helpers/fakes';

/** The `unread` command in the core (code/chat/unread.ts), on in-memory ports and a fake clock. */

/** Connects `poster` to `room` and has it say each text there; returns the message ids, oldest first. */
async function post(chat: ReturnType<typeof setupChat>, poster: string, room: string, texts: string[]) {
  await chat.connect(poster, { room, nick: poster.slice(0, -1) });
  const ids: string[] = [];
  for (const text of texts) {
    await chat.send(poster, { type: 'message', text });
    const ack = chat.push.to(poster).filter((frame) => frame.type === 'ack' && frame.for === 'message');
    ids.push(String(ack[ack.length - 1]!.id));
  }
  return ids;
}

function lastFrame(chat: ReturnType<typeof setupChat>, id: string) {
  const frames = chat.push.to(id);
  return frames[frames.length - 1];
}

describe('unread', () => {
  it('counts each room’s messages after the last one seen there, all of them for a room seen empty', async () => {
    const chat = setupChat();
    const devIds = await post(chat, 'd=', 'dev', ['d1', 'd2', 'd3']);
    await post(chat, 'o=', 'ops', ['o1', 'o2']);
    await post(chat, 'q=', 'quiet', ['q1']);
    await chat.connect('me=', { room: 'lobby', nick: 'me' });
    await chat.send('me=', {
      type: 'unread',
      rooms: { dev: devIds[0], ops: null, quiet: 'zzzzzzzzz', nobody: null },
      ref: 'u1',
    });
    expect(lastFrame(chat, 'me=')).toEqual({
      v: 1,
      type: 'unread',
      ref: 'u1',
      rooms: { dev: 2, ops: 2, quiet: 0, nobody: 0 },
    });
    // Asking tells nobody else anything.
    expect(chat.push.to('d=').filter((f) => f.type === 'unread')).toEqual([]);
  });

  it('stops at a history page and names the room as capped; names are normalized and counted once', async () => {
    const chat = setupChat();
    await post(
      chat,
      'b=',
      'busy',
      Array.from({ length: 52 }, (_, i) => `m${i}`),
    );
    await chat.connect('me=', { nick: 'me' });
    await chat.send('me=', { type: 'unread', rooms: { BUSY: null, busy: null }, ref: 'u' });
    expect(lastFrame(chat, 'me=')).toMatchObject({ rooms: { busy: 50 }, capped: ['busy'] });
  });

  it('refuses bad requests with a clear error and the ref, before they cost a listing', async () => {
    const history = new CountingHistory();
    const chat = setupChat({ history });
    await chat.connect('me=', { nick: 'me' });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ rooms: ['dev'] }, 'bad_frame', '"rooms" must be an object'],
      [{}, 'bad_frame', '"rooms" must be an object'],
      [{ rooms: { dev: 5 } }, 'bad_frame', 'the last seen id of "dev" must be a string or null'],
      [{ rooms: { 'Not a room!': null } }, 'invalid_room', ''],
      [{ rooms: { dev: 'not-an-id!' } }, 'invalid_cursor', 'the id for "dev" must be a message id'],
      [
        { rooms: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`r${i}`, null])) },
        'bad_frame',
        'at most 8 rooms',
      ],
    ];
    for (const [fields, code, text] of cases) {
      await chat.send('me=', { type: 'unread', ...fields, ref: 'bad' });
      const answer = lastFrame(chat, 'me=');
      expect(answer).toMatchObject({ type: 'error', code, ref: 'bad' });
      expect(String(answer!.message)).toContain(text);
    }
    expect(history.countCalls).toBe(0);
  });

  it('allows two requests at once, then one every 5 s per connection', async () => {
    const chat = setupChat();
    await chat.connect('me=', { nick: 'me' });
    await chat.connect('you=', { nick: 'you' });
    const ask = (id: string) => chat.send(id, { type: 'unread', rooms: { dev: null }, ref: 'r' });
    await ask('me=');
    await ask('me=');
    await ask('me=');
    expect(chat.push.to('me=').map((f) => f.type)).toEqual(['unread', 'unread', 'error']);
    expect(lastFrame(chat, 'me=')).toMatchObject({ code: 'rate_limited', ref: 'r' });
    await ask('you=');
    expect(lastFrame(chat, 'you=')).toMatchObject({ type: 'unread' });
    chat.advance(5000);
    await ask('me=');
    expect(lastFrame(chat, 'me=')).toMatchObject({ type: 'unread' });
  });

  it('with access control on, counts only the connection’s own room', async () => {
    const secret = 'an-auth-secret';
    const chat = setupChat({ authSecret: secret });
    const token = issueToken(secret, { nick: 'ann', room: 'dev', ttlSeconds: 600 }, 1_800_000_000_000);
    await chat.connect('a=', { token });
    await chat.send('a=', { type: 'unread', rooms: { dev: null, ops: null }, ref: 'x' });
    expect(lastFrame(chat, 'a=')).toMatchObject({ type: 'error', code: 'forbidden', ref: 'x' });
    await chat.send('a=', { type: 'unread', rooms: { dev: null }, ref: 'y' });
    expect(lastFrame(chat, 'a=')).toMatchObject({ type: 'unread', ref: 'y', rooms: { dev: 0 } });
  });

  it('never throws: an unreachable store is store_unavailable, anything else internal, logged', async () => {
    const lines: string[] = [];
    const history = new CountingHistory();
    const chat = setupChat({ history, log: createLogger((line) => lines.push(line)) });
    await chat.connect('me=', { nick: 'me' });
    history.failWith = new StoreError('list refused', undefined);
    await expect(chat.send('me=', { type: 'unread', rooms: { dev: null }, ref: 's' })).resolves.toEqual({
      replies: [],
    });
    expect(lastFrame(chat, 'me=')).toMatchObject({ type: 'error', code: 'store_unavailable', ref: 's' });
    chat.advance(5000);
    history.failWith = new Error('a bug');
    await expect(chat.send('me=', { type: 'unread', rooms: { dev: null }, ref: 'i' })).resolves.toEqual({
      replies: [],
    });
    const answer = lastFrame(chat, 'me=');
    expect(answer).toMatchObject({ type: 'error', code: 'internal', ref: 'i' });
    expect(String(answer!.message)).not.toContain('a bug');
    expect(lines.some((line) => line.includes('transport_failed') && line.includes('a bug'))).toBe(true);
  });
});

/** History that counts (and can fail) the listings `unread` asks for. */
class CountingHistory extends MemoryHistory {
  countCalls = 0;
  failWith: Error | undefined;
  override async countAfter(room: string, since: string | undefined, cap: number) {
    this.countCalls += 1;
    if (this.failWith) throw this.failWith;
    return super.countAfter(room, since, cap);
  }
}
