import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { connectClient, ofType, type TestClient } from '../helpers/ws-client';
import { openSse, type SseClient } from '../helpers/sse-client';

/**
 * The protocol additions of issue 14 on the local stack (gateway, functions, COS server over the real SDK):
 * idempotent sends by cid across connections, history before a cursor, and the gap flag, SSE resume included.
 */

describe('catch-up and idempotent sends on the local stack', () => {
  let stack: LocalStack;
  const sockets: TestClient[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      env: { HISTORY_LIMIT: '5', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000' },
    });
  });
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await Promise.all(sockets.splice(0).map((c) => c.close()));
  });
  afterAll(() => stack.close());

  const join = async (nick: string, room: string) => {
    const client = await connectClient(stack.wsUrl, connectProtocols({ nick, room }));
    sockets.push(client);
    client.send({ type: 'join', room, ref: 'j' });
    await client.next(ofType('history', { ref: 'j' }));
    return client;
  };
  const say = async (client: TestClient, text: string, ref: string, cid?: string) => {
    client.send({ type: 'message', text, ref, ...(cid === undefined ? {} : { cid }) });
    return client.next((f) => f.ref === ref && (f.type === 'ack' || f.type === 'error'));
  };

  it('a send retried with its cid from a new connection is stored and delivered once', async () => {
    const reader = await join('Rita', 'cids');
    const first = await join('Sam', 'cids');
    const ack = await say(first, 'only once', 'a', 'sam-1');
    expect(ack).toMatchObject({ type: 'ack', stored: true });
    expect(ack.duplicate).toBeUndefined();
    await first.close();

    const second = await join('Sam', 'cids');
    const retry = await say(second, 'only once', 'b', 'sam-1');
    expect(retry).toMatchObject({ type: 'ack', id: ack.id, duplicate: true, delivered: 0 });
    // A later message reaches the reader, so anything pushed before it has arrived too.
    await say(second, 'marker', 'c');
    await reader.next((f) => f.type === 'message' && f.text === 'marker');
    const pushed = reader.frames.filter((f) => f.type === 'message' && f.text === 'only once');
    expect(pushed).toEqual([expect.objectContaining({ id: ack.id, cid: 'sam-1' })]);

    const look = await join('Lee', 'cids');
    look.send({ type: 'history', ref: 'h' });
    const history = await look.next(ofType('history', { ref: 'h' }));
    const texts = (history.messages as Array<{ text: string }>).map((m) => m.text);
    expect(texts).toEqual(['only once', 'marker']);
  });

  it('refuses a malformed cid, and since with before, with bad_frame', async () => {
    const client = await join('Val', 'checks');
    expect(await say(client, 'x', 'bad', 'no spaces allowed')).toMatchObject({
      type: 'error',
      code: 'bad_frame',
    });
    client.send({ type: 'history', since: '0', before: '1', ref: 'both' });
    expect(await client.next((f) => f.ref === 'both')).toMatchObject({ type: 'error', code: 'bad_frame' });
  });

  it('pages backwards with before, and says gap when the cursor is older than what history keeps', async () => {
    const client = await join('Pia', 'paging');
    const ids: string[] = [];
    for (let index = 1; index <= 8; index += 1)
      ids.push((await say(client, `m${index}`, `s${index}`)).id as string);
    // HISTORY_LIMIT=5 keeps m4..m8.
    client.send({ type: 'history', before: ids[7], limit: 2, ref: 'older' });
    expect(await client.next(ofType('history', { ref: 'older' }))).toMatchObject({
      messages: [expect.objectContaining({ text: 'm6' }), expect.objectContaining({ text: 'm7' })],
      more: true,
    });
    client.send({ type: 'history', since: ids[1], ref: 'dropped' });
    const dropped = await client.next(ofType('history', { ref: 'dropped' }));
    expect(dropped.gap).toBe(true);
    expect((dropped.messages as Array<{ text: string }>).map((m) => m.text)).toEqual([
      'm4',
      'm5',
      'm6',
      'm7',
      'm8',
    ]);
    client.send({ type: 'history', since: ids[4], ref: 'kept' });
    const kept = await client.next(ofType('history', { ref: 'kept' }));
    expect(kept.gap).toBeUndefined();

    // The SSE resume answers like history with since, gap included: for a bare reader as its join's `since`,
    // for a stream that joins by itself (our clients) as a history command.
    const stream = await openSse(`${stack.url}events?room=paging&nick=Sue`, { 'Last-Event-ID': ids[0]! });
    streams.push(stream);
    const joined = await stream.next((e) => e.event === 'history');
    expect(joined.json).toMatchObject({ ref: 'sse-join', gap: true });
    const own = await openSse(`${stack.url}events?room=paging&nick=Sam&join=self`, {
      'Last-Event-ID': ids[0]!,
    });
    streams.push(own);
    const resumed = await own.next((e) => e.event === 'history');
    expect(resumed.json).toMatchObject({ ref: 'sse-resume', gap: true });
  });
});
