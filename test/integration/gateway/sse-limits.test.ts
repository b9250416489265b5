import http from 'http';
import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import { connectClient, eventually, type TestClient } from '../../helpers/ws-client';
import { openSse, postSend, SseRefused, type SseClient } from '../../helpers/sse-client';
import { pushText, signedPush } from '../../helpers/raw-http';
import { connectProtocols } from '../../../code/chat/protocol';
import { issueToken } from '../../../code/chat/token';
import { verifySendCredential } from '../../../code/gateway/sse-wire';

/** An SSE stream is held to the limits a WebSocket is: buffer, rate and queue, connection caps, body size. */

const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof SseRefused ? error.status : error),
  );

describe('SSE limits', () => {
  let stack: LocalStack;
  const streams: SseClient[] = [];
  const sockets: TestClient[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      gatewayEnv: {
        GATEWAY_SEND_BUFFER_BYTES: '65536',
        GATEWAY_MAX_QUEUED_FRAMES: '8',
        GATEWAY_FRAMES_PER_SECOND: '2',
        GATEWAY_FRAME_BURST: '2',
        GATEWAY_MAX_BODY_BYTES: '1024',
        GATEWAY_MAX_CONNECTIONS_PER_IP: '3',
      },
    });
  });
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await Promise.all(sockets.splice(0).map((c) => c.close()));
    await eventually(() => stack.gateway.connectionIds().length === 0, 5000, 'all closed');
  });
  afterAll(() => stack.close());

  const sse = async (query: string) => {
    const client = await openSse(`${stack.url}events?${query}`);
    streams.push(client);
    return client;
  };
  const idOf = (client: SseClient) => {
    const check = verifySendCredential(stack.env.GATEWAY_SECRET!, client.credential);
    if (!check.ok) throw new Error('no credential');
    return check.connectionId;
  };

  it('counts streams and sockets against the same per-address cap', async () => {
    await sse('room=cap&nick=a');
    await sse('room=cap&nick=b');
    sockets.push(await connectClient(stack.wsUrl, connectProtocols({ nick: 'c', room: 'cap' })));
    expect(await refusalOf(openSse(`${stack.url}events?room=cap&nick=d`))).toBe(429);
  });

  it('closes a stream that does not read as a slow reader (the push answered 410)', async () => {
    const paused = await new Promise<{ id: string; req: http.ClientRequest }>((resolve, reject) => {
      const req = http.get(`${stack.url}events?room=slow&nick=slow`, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        const onData = (chunk: string) => {
          text += chunk;
          const credential = /"credential":"([^"]+)"/.exec(text)?.[1];
          if (!credential) return;
          res.off('data', onData);
          res.pause(); // and so the socket: the kernel buffers fill, then the gateway's
          const check = verifySendCredential(stack.env.GATEWAY_SECRET!, credential);
          if (check.ok) resolve({ id: check.connectionId, req });
        };
        res.on('data', onData);
      });
      req.on('error', reject);
    });
    const big = JSON.stringify({ v: 1, type: 'message', text: 'z'.repeat(60_000) });
    const outcomes: number[] = [];
    for (let i = 0; i < 400 && !outcomes.includes(410); i += 1)
      outcomes.push(
        (await signedPush(stack.pushUrl, stack.env.GATEWAY_SECRET!, pushText(paused.id, big))).status,
      );
    expect(outcomes).toContain(410);
    await eventually(() => !stack.gateway.connectionIds().includes(paused.id), 3000, 'slow reader closed');
    paused.req.destroy();
  });

  it('closes a stream whose POSTs flood its queue: 429, and a close event with 1008', async () => {
    const flooder = await sse('room=flood&nick=flood');
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        postSend(`${stack.url}events/send`, JSON.stringify({ type: 'message', text: `spam ${i}` }), {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${flooder.credential}`,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses).toContain(429);
    await flooder.ended;
    expect(flooder.events.at(-1)).toMatchObject({ event: 'close' });
    expect(flooder.events.at(-1)!.json).toMatchObject({ code: 1008 });
  });

  it('refuses a send body over GATEWAY_MAX_BODY_BYTES with 413', async () => {
    const reader = await sse('room=big&nick=big');
    const answer = await postSend(
      `${stack.url}events/send`,
      JSON.stringify({ type: 'message', text: 'x'.repeat(2000) }),
      { 'Content-Type': 'application/json', Authorization: `Bearer ${reader.credential}` },
    );
    expect(answer.status).toBe(413);
    expect(stack.gateway.connectionIds()).toContain(idOf(reader));
  });
});

describe('SSE with access control (AUTH_SECRET)', () => {
  const secret = 'sse-auth-secret';
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, env: { AUTH_SECRET: secret } });
  });
  afterAll(() => stack.close());

  it('refuses a stream without a valid token, admits one with, and resumes without a join', async () => {
    expect(await refusalOf(openSse(`${stack.url}events?room=vip&nick=nobody`))).toBe(403);
    expect(await refusalOf(openSse(`${stack.url}events?token=not.valid`))).toBe(403);

    const token = issueToken(secret, { nick: 'Vera', room: 'vip', ttlSeconds: 600 });
    const writer = await connectClient(
      stack.wsUrl,
      connectProtocols({ token: issueToken(secret, { nick: 'Walt', room: 'vip', ttlSeconds: 600 }) }),
    );
    const reader = await openSse(`${stack.url}events?token=${token}`);
    writer.send({ type: 'message', text: 'first', ref: 'f' });
    await reader.next((e) => e.event === 'message' && e.json?.text === 'first');
    const last = reader.lastEventId!;
    reader.close();
    writer.send({ type: 'message', text: 'while away', ref: 'w' });
    await writer.next((f) => f.type === 'ack' && f.ref === 'w');

    const back = await openSse(`${stack.url}events?token=${token}`, { 'Last-Event-ID': last });
    const history = await back.next((e) => e.event === 'history' || e.event === 'error');
    expect(history.event).toBe('history');
    expect((history.json!.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['while away']);
    back.close();
    await writer.close();
  });
});

describe('SSE with GATEWAY_ALLOWED_ORIGINS', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      gatewayEnv: { GATEWAY_ALLOWED_ORIGINS: 'https://chat.example' },
    });
  });
  afterAll(() => stack.close());

  it('refuses a foreign page, admits a listed one and a same-origin one (which sends no Origin)', async () => {
    const url = `${stack.url}events?room=origins&nick=Oona`;
    expect(await refusalOf(openSse(url, { Origin: 'https://evil.example' }))).toBe(403);
    const listed = await openSse(url, { Origin: 'https://chat.example' });
    const same = await openSse(url);
    const foreignSend = await postSend(`${stack.url}events/send`, '{"type":"ping"}', {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${listed.credential}`,
      Origin: 'https://evil.example',
    });
    expect(foreignSend.status).toBe(403);
    listed.close();
    same.close();
  });
});
