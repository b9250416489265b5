import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';
import { connectProtocols } from '../../code/chat/protocol';
import { encodeConnectionId } from '../../code/registry/keys';
import type { ScfFunction } from '../../scripts/local/local-invoker';

/** The local stack with real `ws` clients: the gateway emulator, the real handlers, the local COS store. */

function registeredIds(stack: LocalStack, room = 'lobby'): string[] {
  const prefix = `wschat/room/${room}/`;
  return stack.cos
    .keys(stack.bucket, prefix)
    .map((k) => k.slice(prefix.length))
    .sort();
}

function liveIds(stack: LocalStack): string[] {
  return stack.gateway.connectionIds().map(encodeConnectionId).sort();
}

async function join(stack: LocalStack, options: { room?: string; nick?: string } = {}): Promise<TestClient> {
  const client = await connectClient(stack.wsUrl, connectProtocols(options));
  return client;
}

describe('local stack', () => {
  let stack: LocalStack;
  const clients: TestClient[] = [];
  let failTransportFor: string | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      idleTimeoutMs: 60_000,
      env: { HANDSHAKE_GRACE_MS: '0' },
      wrapFunction: (name, fn): ScfFunction =>
        name !== 'transport'
          ? fn
          : async (event, context) => {
              const data = (event as { websocket: { data?: string } }).websocket.data;
              if (failTransportFor !== undefined && data === failTransportFor)
                throw new Error('function crashed');
              return fn(event, context);
            },
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await eventually(() => stack.gateway.connectionIds().length === 0, 5000, 'all closed');
    await eventually(() => registeredIds(stack).length === 0, 5000, 'registry empty');
  });
  afterAll(() => stack.close());

  it('connects, chats between several clients and disconnects, with the registry matching the live connections', async () => {
    const alice = await join(stack, { nick: 'alice' });
    clients.push(alice);
    expect(registeredIds(stack)).toEqual(liveIds(stack));
    const bob = await join(stack, { nick: 'bob' });
    const carol = await join(stack, { nick: 'carol' });
    clients.push(bob, carol);
    expect(registeredIds(stack)).toEqual(liveIds(stack));

    alice.send('hi all');
    const atBob = await bob.next(ofType('message'));
    const atCarol = await carol.next(ofType('message'));
    expect(atBob).toMatchObject({ from: 'alice', text: 'hi all', online: 3 });
    expect(atCarol.id).toBe(atBob.id);
    expect(await alice.next(ofType('ack'))).toMatchObject({ for: 'message', delivered: 2, online: 3 });

    bob.send({ type: 'message', text: 'hello alice', ref: 'b1' });
    expect(await alice.next(ofType('message'))).toMatchObject({ from: 'bob', text: 'hello alice' });

    // A client the room heard arrive (its first join) is heard leaving; one that never spoke is not (sse.test.ts).
    carol.send({ type: 'join', ref: 'cj' });
    await carol.next(ofType('ack', { ref: 'cj' }));
    await carol.close();
    expect(await alice.next(ofType('presence', { event: 'leave' }))).toMatchObject({
      nick: 'carol',
      online: 2,
    });
    await eventually(() => registeredIds(stack).join() === liveIds(stack).join(), 3000, 'registry = live');
  });

  it('refuses the handshake when register refuses, and admits nobody', async () => {
    await expect(connectClient(stack.wsUrl, connectProtocols({ nick: '<bad nick>' }))).rejects.toThrow(
      'HTTP 403',
    );
    expect(stack.gateway.connectionIds()).toEqual([]);
    expect(registeredIds(stack)).toEqual([]);
  });

  it('drops only the client whose transport invocation fails, and cleans up after it', async () => {
    const a = await join(stack, { nick: 'a' });
    const b = await join(stack, { nick: 'b' });
    clients.push(a, b);
    failTransportFor = 'crash please';
    a.send('crash please');
    await a.closed;
    failTransportFor = undefined;
    await eventually(() => stack.gateway.connectionIds().length === 1, 3000, 'one connection left');
    // Our gateway knows every close, so it calls cleanup for server-side closes too (docs/gateway.md).
    await stack.gateway.settled();
    expect(registeredIds(stack)).toEqual(liveIds(stack));
    b.send('still working?');
    expect(await b.next(ofType('ack'))).toMatchObject({ delivered: 0, online: 1 });
    expect(registeredIds(stack)).toEqual(liveIds(stack));
  });

  it('classifies a push to an unknown connection as gone and prunes it', async () => {
    const a = await join(stack);
    clients.push(a);
    const ghost = 'R2hvc3QrL2Nvbm5lY3Rpb24=';
    const { createCosRegistry } = await import('../../code/registry/cos-registry');
    const { createObjectStore } = await import('../../code/cos/object-store');
    const { loadConfig } = await import('../../code/config');
    await createCosRegistry(createObjectStore(loadConfig(stack.env).cos)).add({
      id: ghost,
      room: 'lobby',
      nick: 'ghost',
      connectedAt: 0,
    });
    expect(registeredIds(stack)).toContain(encodeConnectionId(ghost));
    stack.gateway.resetPushStats();
    a.send('anyone?');
    expect(await a.next(ofType('ack'))).toMatchObject({ delivered: 0 });
    expect(stack.gateway.pushStats().unknown).toBe(1);
    expect(registeredIds(stack)).toEqual(liveIds(stack));
  });

  it('keeps plain text frames working for wscat-style clients (no sub-protocol)', async () => {
    const plain = new WebSocket(stack.wsUrl);
    await new Promise((resolve) => plain.once('open', resolve));
    const other = await join(stack, { nick: 'other' });
    clients.push(other);
    plain.send('just text');
    expect(await other.next(ofType('message'))).toMatchObject({
      text: 'just text',
      from: expect.stringMatching(/^guest-/),
    });
    plain.close();
    await new Promise((resolve) => plain.once('close', resolve));
  });
});

describe('local stack idle timeout', () => {
  it('closes an idle client with 1001 and calls cleanup for it', async () => {
    const stack = await startLocalStack({ port: 0, idleTimeoutMs: 400, env: { HANDSHAKE_GRACE_MS: '0' } });
    const idle = await join(stack, { nick: 'idle' });
    const chatty = await join(stack, { nick: 'chatty' });
    const keepAlive = setInterval(() => chatty.send({ type: 'ping' }), 100);
    try {
      expect(await idle.closed).toBe(1001);
      await eventually(() => stack.gateway.connectionIds().length === 1, 3000, 'one connection left');
      await stack.gateway.settled();
      expect(registeredIds(stack)).toEqual(liveIds(stack));
      chatty.send('after the timeout');
      expect(await chatty.next(ofType('ack'))).toMatchObject({ delivered: 0, online: 1 });
      expect(registeredIds(stack)).toEqual(liveIds(stack));
    } finally {
      clearInterval(keepAlive);
      await chatty.close();
      await stack.close();
    }
  });
});
