import WebSocket from 'ws';
import fc from 'fast-check';
import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import type { ScfFunction } from '../../../scripts/local/local-invoker';
import { connectClient, eventually, ofType, type TestClient } from '../../helpers/ws-client';
import { connectProtocols } from '../../../code/chat/protocol';
import { pushText, portOf, rawRequest, request, signedPush } from '../../helpers/raw-http';
import { SIGNATURE_HEADER, signBody } from '../../../code/util/signature';

/**
 * What a hostile neighbour tried against the old emulator, against the gateway we ship: each case once crashed
 * the process, reached something private, or made memory or latency grow without bound.
 */

const UPGRADE = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('the gateway under attack', () => {
  let stack: LocalStack;
  const calls = { register: 0, transport: new Map<string, number>() };
  const clients: TestClient[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      log: (line) => log.push(line),
      gatewayEnv: {
        GATEWAY_SEND_BUFFER_BYTES: '65536',
        GATEWAY_MAX_QUEUED_FRAMES: '32',
        GATEWAY_FRAMES_PER_SECOND: '10',
        GATEWAY_FRAME_BURST: '10',
        GATEWAY_MAX_BODY_BYTES: '4096',
        GATEWAY_MAX_PUSH_BODY_BYTES: '262144',
      },
      wrapFunction:
        (name, fn): ScfFunction =>
        async (event, context) => {
          if (name === 'register') calls.register += 1;
          if (name === 'transport') {
            const id = (event as { websocket: { secConnectionID: string } }).websocket.secConnectionID;
            calls.transport.set(id, (calls.transport.get(id) ?? 0) + 1);
          }
          return fn(event, context);
        },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => stack.close());

  const alive = async () => (await request(`${stack.url}healthz`)).status === 200;
  const join = async (nick: string, room = 'lobby') => {
    const client = await connectClient(stack.wsUrl, connectProtocols({ nick, room }));
    clients.push(client);
    client.send({ type: 'ping' });
    await client.next(ofType('pong'));
    return client;
  };
  const lastId = () => stack.gateway.connectionIds().at(-1)!;

  it.each([
    ['GET /%E0 HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['GET http://x:99999/ HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['GET //[ HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['GET * HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', '404'],
    ['GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', '400'],
    [UPGRADE('/%E0'), '400'],
    [UPGRADE('//['), '400'],
    [UPGRADE('http://x:99999/ws'), '400'],
  ])('answers %j with %s and keeps serving', async (raw, status) => {
    expect(await rawRequest(portOf(stack.url), raw)).toContain(` ${status} `);
    expect(await alive()).toBe(true);
  });

  it('survives any request target (fuzz): an answer for each, and the process stays up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.boolean(), async (target, upgrade) => {
        const clean = target.replace(/[\r\n\s]/g, '');
        const raw = upgrade ? UPGRADE(clean || '/') : `GET ${clean || '/'} HTTP/1.1\r\nHost: x\r\n\r\n`;
        const line = await rawRequest(portOf(stack.url), raw);
        expect(line).toMatch(/^HTTP\/1\.1 (101|200|400|403|404|426) /);
      }),
      { numRuns: 150 },
    );
    expect(await alive()).toBe(true);
  });

  it('refuses malformed upgrades with 400 before any function runs', async () => {
    const before = calls.register;
    const port = portOf(stack.url);
    const base = 'Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    for (const raw of [
      `GET /ws HTTP/1.1\r\n${base}Sec-WebSocket-Version: 13\r\n\r\n`,
      `GET /ws HTTP/1.1\r\n${base}Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      `GET /ws HTTP/1.1\r\n${base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`,
      `POST /ws HTTP/1.1\r\n${base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ]) {
      expect(await rawRequest(port, raw)).toContain(' 400 ');
    }
    expect(calls.register).toBe(before);
  });

  it('has no push endpoint or store on the public port', async () => {
    for (const path of ['_push', 'push', '_cos/wschat-1250000000/wschat/conn/', 'wschat-1250000000/']) {
      expect((await request(`${stack.url}${path}`)).status).toBe(404);
      expect((await request(`${stack.url}${path}`, { method: 'POST', body: '{}' })).status).toBe(405);
    }
    expect(stack.pushUrl).not.toContain(`:${portOf(stack.url)}/`);
    expect(stack.cosEndpoint).not.toContain(`:${portOf(stack.url)}/`);
  });

  it('refuses unsigned, wrongly signed, expired and replayed-as-invocation pushes', async () => {
    const a = await join('target');
    const id = lastId();
    const body = pushText(id, '{"v":1,"type":"message","text":"forged"}');
    const payload = JSON.stringify(body);
    const secret = stack.env.GATEWAY_SECRET!;
    const attempts: Array<Record<string, string>> = [
      {},
      { [SIGNATURE_HEADER]: signBody('not-the-secret-not-the-secret-xx', 'push', payload) },
      { [SIGNATURE_HEADER]: signBody(secret, 'push', payload, Date.now() - 3_600_000) },
      { [SIGNATURE_HEADER]: signBody(secret, 'invoke', payload) },
      { [SIGNATURE_HEADER]: 't=1,v1=zz' },
    ];
    for (const headers of attempts) {
      const answer = await request(stack.pushUrl, { method: 'POST', headers, body: payload });
      expect(answer.status).toBe(401);
    }
    const forgedClose = await signedPush(
      stack.pushUrl,
      secret,
      { websocket: { action: 'closing', secConnectionID: id } },
      false,
    );
    expect(forgedClose.status).toBe(401);
    expect(a.socket.readyState).toBe(WebSocket.OPEN);
    expect(a.frames.some((f) => f.text === 'forged')).toBe(false);
    // The real thing still works.
    expect((await signedPush(stack.pushUrl, secret, body)).status).toBe(200);
    expect(await a.next((f) => f.text === 'forged')).toMatchObject({ type: 'message' });
  });

  it('answers a push for an unknown connection with 410', async () => {
    const answer = await signedPush(
      stack.pushUrl,
      stack.env.GATEWAY_SECRET!,
      pushText('local+AAAAAAAAAAAAAAAAAAAAAAAA', 'x'),
    );
    expect(answer.status).toBe(410);
    expect(JSON.parse(answer.body)).toMatchObject({ errNo: 410 });
  });

  it('refuses oversized bodies by their declared length before reading them, and cuts chunked ones off', async () => {
    const port = portOf(stack.url);
    const declared = await rawRequest(
      port,
      'POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{',
    );
    expect(declared).toContain(' 413 ');
    const chunk = 'x'.repeat(2048);
    const chunked = await rawRequest(
      port,
      'POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `800\r\n${chunk}\r\n800\r\n${chunk}\r\n800\r\n${chunk}\r\n`,
    );
    expect(chunked).toContain(' 413 ');
    const pushPort = portOf(stack.pushUrl);
    expect(
      await rawRequest(pushPort, 'POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n{'),
    ).toContain(' 413 ');
    expect(await alive()).toBe(true);
  });

  it('closes a client that does not read instead of buffering for it', async () => {
    const reader = await join('reads');
    const slow = await join('never-reads');
    const slowId = lastId();
    slow.socket.pause(); // stops reading from the TCP socket: the kernel buffers fill, then the gateway's
    const secret = stack.env.GATEWAY_SECRET!;
    const big = JSON.stringify({ v: 1, type: 'message', text: 'z'.repeat(60_000) });
    const outcomes: number[] = [];
    for (let i = 0; i < 400 && !outcomes.includes(410); i += 1) {
      outcomes.push((await signedPush(stack.pushUrl, secret, pushText(slowId, big))).status);
    }
    expect(outcomes).toContain(410);
    await eventually(() => !stack.gateway.connectionIds().includes(slowId), 3000, 'slow reader closed');
    expect(log.some((line) => /slow_reader/.test(line))).toBe(true);
    slow.socket.terminate(); // paused, it would never read the gateway's FIN
    // Everyone else is unaffected.
    reader.send('still here');
    expect(await reader.next(ofType('ack'))).toMatchObject({ type: 'ack' });
  });

  it('closes a flooding connection with 1008 after a bounded number of invocations; other rooms keep chatting', async () => {
    const flooder = await join('flood', 'flood');
    const floodId = lastId();
    const calm = await join('calm', 'calm');
    const before = calls.transport.get(floodId) ?? 0;
    for (let i = 0; i < 20_000 && flooder.socket.readyState === WebSocket.OPEN; i += 1)
      flooder.socket.send(`spam ${i}`);
    expect(await flooder.closed).toBe(1008);
    calm.send('hello calm room');
    expect(await calm.next(ofType('ack'))).toMatchObject({ type: 'ack' });
    await stack.gateway.settled();
    const invoked = (calls.transport.get(floodId) ?? 0) - before;
    // At most the burst plus the queue, and in practice far fewer: the rest were refused without a function.
    expect(invoked).toBeLessThanOrEqual(10 + 32);
  });

  it('answers a text frame that is not UTF-8 with an error instead of closing', async () => {
    const a = await join('bytes');
    a.socket.send(Buffer.from([0x68, 0xff, 0xfe, 0x69]), { binary: false });
    expect(await a.next(ofType('error'))).toMatchObject({ code: 'binary_unsupported' });
    expect(a.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('gateway admission limits', () => {
  it('caps connections per address and in total, and checks the Origin when told to', async () => {
    const stack = await startLocalStack({
      port: 0,
      gatewayEnv: {
        GATEWAY_MAX_CONNECTIONS: '3',
        GATEWAY_MAX_CONNECTIONS_PER_IP: '2',
        GATEWAY_ALLOWED_ORIGINS: 'https://chat.example',
      },
    });
    const opened: WebSocket[] = [];
    const open = (origin?: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(stack.wsUrl, { origin });
        opened.push(socket);
        socket.once('open', () => resolve(101));
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('error', () => undefined);
      });
    try {
      expect(await open('https://evil.example')).toBe(403);
      expect(await open()).toBe(403);
      expect(await open('https://chat.example')).toBe(101);
      expect(await open('https://chat.example')).toBe(101);
      expect(await open('https://chat.example')).toBe(429);
    } finally {
      for (const socket of opened) socket.terminate();
      await stack.close();
    }
  });

  it('gives up on a register that does not answer in time (504) and undoes what it stored', async () => {
    let release: (() => void) | undefined;
    const stack = await startLocalStack({
      port: 0,
      gatewayEnv: { GATEWAY_HANDSHAKE_TIMEOUT_MS: '300' },
      wrapFunction: (name, fn): ScfFunction =>
        name !== 'register'
          ? fn
          : async (event, context) => {
              await new Promise<void>((resolve) => (release = resolve));
              return fn(event, context);
            },
    });
    try {
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(stack.wsUrl);
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('error', () => resolve(0));
      });
      expect(status).toBe(504);
      release?.();
      await eventually(
        () => stack.cos.keys(stack.bucket, 'wschat/conn/').length === 0 && release !== undefined,
        3000,
      );
      await stack.gateway.settled();
      expect(stack.cos.keys(stack.bucket, 'wschat/room/')).toEqual([]);
    } finally {
      await stack.close();
    }
  });

  it('drains on stop: clients hear 1001, cleanup runs for each, and new handshakes are refused', async () => {
    const stack = await startLocalStack({ port: 0 });
    const a = await connectClient(stack.wsUrl, connectProtocols({ nick: 'a' }));
    const b = await connectClient(stack.wsUrl, connectProtocols({ nick: 'b' }));
    a.send({ type: 'ping' });
    b.send({ type: 'ping' });
    await Promise.all([a.next(ofType('pong')), b.next(ofType('pong'))]);
    expect(stack.cos.keys(stack.bucket, 'wschat/room/lobby/')).toHaveLength(2);
    const stopping = stack.close();
    expect(await a.closed).toBe(1001);
    expect(await b.closed).toBe(1001);
    await stopping;
    expect(stack.cos.keys(stack.bucket, 'wschat/room/')).toEqual([]);
    expect(stack.cos.keys(stack.bucket, 'wschat/conn/')).toEqual([]);
  });
});

describe('a mass disconnect', () => {
  it('runs cleanups with bounded concurrency and leaves no record behind', async () => {
    let running = 0;
    let peak = 0;
    const stack = await startLocalStack({
      port: 0,
      gatewayEnv: { GATEWAY_CLEANUP_CONCURRENCY: '8', GATEWAY_MAX_CONNECTIONS_PER_IP: '1000' },
      wrapFunction: (name, fn): ScfFunction =>
        name !== 'cleanup'
          ? fn
          : async (event, context) => {
              running += 1;
              peak = Math.max(peak, running);
              try {
                return await fn(event, context);
              } finally {
                running -= 1;
              }
            },
    });
    try {
      const crowd: TestClient[] = [];
      for (let i = 0; i < 300; i += 25) {
        crowd.push(
          ...(await Promise.all(
            // Thirty small rooms: a join announces itself to its room, and this test is about leaving.
            Array.from({ length: 25 }, (_, j) =>
              connectClient(stack.wsUrl, connectProtocols({ room: `crowd${(i + j) % 30}` })),
            ),
          )),
        );
      }
      expect(stack.cos.keys(stack.bucket, 'wschat/room/')).toHaveLength(300);
      for (const client of crowd) client.socket.terminate(); // all at once, as a network drop would
      await eventually(() => stack.gateway.connectionIds().length === 0, 10_000, 'all closed');
      await stack.gateway.settled();
      expect(peak).toBeLessThanOrEqual(8);
      expect(peak).toBeGreaterThan(1);
      expect(stack.cos.keys(stack.bucket, 'wschat/room/')).toEqual([]);
      expect(stack.cos.keys(stack.bucket, 'wschat/conn/')).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
