import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';
import { connectProtocols } from '../../code/chat/protocol';
import { issueToken } from '../../code/chat/token';

/** Faults injected through the local COS server and the gateway's push endpoint: nothing lost, nothing hangs. */

describe('faults', () => {
  let stack: LocalStack;
  const clients: TestClient[] = [];
  const join = async (nick: string, room = 'lobby') => {
    const client = await connectClient(stack.wsUrl, connectProtocols({ nick, room }));
    clients.push(client);
    return client;
  };
  const registered = () => stack.cos.keys(stack.bucket, 'wschat/room/');

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      env: { PUSH_TIMEOUT_MS: '300', PUSH_RETRIES: '2', PUSH_BUDGET_MS: '2000', COS_TIMEOUT_MS: '1500' },
    });
  });
  afterEach(async () => {
    stack.cos.clearFaults();
    stack.gateway.clearPushFaults();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await eventually(() => registered().length === 0, 5000, 'registry empty');
  });
  afterAll(() => stack.close());

  it('register refuses cleanly when COS cannot store the connection', async () => {
    stack.cos.injectFault({ operation: 'put', status: 503 });
    await expect(connectClient(stack.wsUrl)).rejects.toThrow('HTTP 403');
    stack.cos.clearFaults();
    expect(stack.gateway.connectionIds()).toEqual([]);
    expect(registered()).toEqual([]);
  });

  it('register refuses when COS is too slow, instead of hanging the handshake', async () => {
    stack.cos.injectFault({ operation: 'put', delayMs: 3000, times: 1 });
    const started = Date.now();
    await expect(connectClient(stack.wsUrl)).rejects.toThrow('HTTP 403');
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it('transport answers with an error and keeps the message in history when the room cannot be listed', async () => {
    const a = await join('a');
    const b = await join('b');
    // Each reading of the room is tried 4 times, and the sender's room is read twice: once on the way in (with the
    // record the gateway handed in), once more to deliver when that failed.
    stack.cos.injectFault({ operation: 'list', status: 500, times: 8 });
    a.send({ type: 'message', text: 'kept safe', ref: 'k' });
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'store_unavailable', ref: 'k' });
    expect(a.socket.readyState).toBe(WebSocket.OPEN); // the sender is not dropped
    b.send({ type: 'history' });
    const history = await b.next(ofType('history'));
    expect((history.messages as Array<{ text: string }>).map((m) => m.text)).toContain('kept safe');
  });

  it('retries pushes the gateway answers with 5xx or 429, or drops, and delivers', async () => {
    const a = await join('a');
    const b = await join('b');
    const bId = stack.gateway.connectionIds().find((id) => id !== stack.gateway.connectionIds()[0]);
    expect(bId).toBeDefined();
    for (const fault of [
      { mode: 'status' as const, status: 503, times: 1 },
      { mode: 'status' as const, status: 429, times: 1 },
      { mode: 'drop' as const, times: 1 },
    ]) {
      stack.gateway.injectPushFault(fault);
      a.send(`through ${fault.mode} ${fault.status ?? ''}`);
      expect(await b.next(ofType('message'))).toMatchObject({
        text: `through ${fault.mode} ${fault.status ?? ''}`,
      });
      expect(await a.next(ofType('ack'))).toMatchObject({ delivered: 1, failed: 0 });
      stack.gateway.clearPushFaults();
    }
  });

  it('does not hang on a push the gateway never answers: the others still get it and the sender is told', async () => {
    const a = await join('a');
    const b = await join('b');
    const c = await join('c');
    // The last connection registered is c; hang every push to it.
    const cId = stack.gateway.connectionIds()[2]!;
    stack.gateway.injectPushFault({ mode: 'hang', connectionId: cId });
    const started = Date.now();
    a.send('someone is slow');
    expect(await b.next(ofType('message'))).toMatchObject({ text: 'someone is slow' });
    const ack = await a.next(ofType('ack'), 5000);
    expect(ack).toMatchObject({ delivered: 1, failed: 1 });
    expect(Date.now() - started).toBeLessThan(2500);
    stack.gateway.clearPushFaults();
    void c;
  });

  it('answers binary, oversized, huge-JSON and hostile frames with errors and keeps the connection', async () => {
    const a = await join('a');
    a.socket.send(Buffer.from([0, 1, 2, 3]));
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'binary_unsupported' });
    a.send('x'.repeat(5000));
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'too_large' });
    a.send(JSON.stringify({ type: 'message', text: 'y', pad: 'z'.repeat(32 * 1024) }));
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'too_large' });
    a.send('{"__proto__":{"type":"nick","nick":"admin"},"constructor":{"prototype":{"x":1}}}');
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'unknown_command' });
    a.send({ type: 'join', room: '../conn' });
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'invalid_room' });
    expect(a.socket.readyState).toBe(WebSocket.OPEN);
    expect(
      stack.cos
        .keys(stack.bucket)
        .every((k) => /^wschat\/(conn|room\/lobby|rlog\/lobby|hist\/[a-z0-9_-]+)\//.test(k)),
    ).toBe(true);
  });

  it('closes a client whose frame is over the gateway frame limit with 1009, before any function runs', async () => {
    const huge = await join('huge');
    const frames = stack.gateway.hub.config.limits.maxFrameBytes;
    huge.send(JSON.stringify({ type: 'message', text: 'y', pad: 'z'.repeat(frames) }));
    expect(await huge.closed).toBe(1009);
  });
});

describe('stale connections and the sweep', () => {
  it('removes what a failed cleanup left behind once it is past the TTL', async () => {
    const stack = await startLocalStack({
      port: 0,
      env: { CONNECTION_TTL_SECONDS: '1', HANDSHAKE_GRACE_MS: '0' },
    });
    try {
      const leaver = await connectClient(stack.wsUrl, connectProtocols({ nick: 'leaver', room: 'quiet' }));
      stack.cos.injectFault({ operation: 'multiDelete', status: 500 });
      await leaver.close();
      await eventually(() => stack.gateway.connectionIds().length === 0);
      // The cleanup and the gateway's one retry have both failed (every COS retry of theirs too) once it settles.
      await stack.gateway.settled();
      stack.cos.clearFaults();
      expect(stack.cos.keys(stack.bucket, 'wschat/room/quiet/')).toHaveLength(1);
      // The membership's TTL (1 s) passing is what the sweep waits for: time itself, not a settle point.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const report = (await stack.sweep()) as { staleConnections: number };
      expect(report.staleConnections).toBe(1);
      expect(stack.cos.keys(stack.bucket, 'wschat/room/')).toEqual([]);
      expect(stack.cos.keys(stack.bucket, 'wschat/conn/')).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe('secrets stay out of logs', () => {
  it('never logs AUTH_SECRET, PUBLISH_TOKEN or a client token', async () => {
    const lines: string[] = [];
    const AUTH_SECRET = 'auth-secret-AAAA1111';
    const PUBLISH_TOKEN = 'publish-token-BBBB2222';
    const stack = await startLocalStack({
      port: 0,
      env: { AUTH_SECRET, PUBLISH_TOKEN },
      log: (l) => lines.push(l),
    });
    try {
      const token = issueToken(AUTH_SECRET, { nick: 'alice', room: 'lobby', ttlSeconds: 60 });
      const client = await connectClient(stack.wsUrl, connectProtocols({ token }));
      client.send('hello');
      await client.next(ofType('ack'));
      await expect(connectClient(stack.wsUrl, connectProtocols({ token: `${token}x` }))).rejects.toThrow(
        'HTTP 403',
      );
      await fetch(`${stack.url}publish`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${PUBLISH_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'from api' }),
      });
      await client.close();
      const all = lines.join('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const secret of [AUTH_SECRET, PUBLISH_TOKEN, token, token.split('.')[1]!])
        expect(all).not.toContain(secret);
    } finally {
      await stack.close();
    }
  });
});
