import { connectProtocols } from '../../../code/chat/protocol';
import { decodeContext } from '../../../code/chat/connection-context';
import type { Invoker } from '../../../code/gateway/invoker';
import { createLocalInvoker } from '../../../scripts/local/local-invoker';
import { startCluster, type Cluster } from '../../helpers/gateway-cluster';
import { connectClient, eventually, ofType } from '../../helpers/ws-client';

/**
 * Transport's replies to the sender ride its answer (docs/gateway.md): real `ws` clients, the real gateway and
 * the real functions, with an invoker that lets a test hold transport's answer back and see its events.
 */

function contextOf(event: unknown): string | undefined {
  return (event as { websocket?: { context?: string } }).websocket?.context;
}

describe("what transport's answer carries: replies and the sender's record", () => {
  let cluster: Cluster | undefined;
  afterEach(() => cluster?.close());

  const transportEvents: unknown[] = [];
  const cleanupEvents: unknown[] = [];
  let gate: Promise<void> | undefined;

  async function start(): Promise<Cluster> {
    transportEvents.length = 0;
    cleanupEvents.length = 0;
    gate = undefined;
    cluster = await startCluster(1, {
      invokerFor: async (functions) => {
        const local = createLocalInvoker(functions);
        const invoker: Invoker = {
          async invoke(fn, event, timeoutMs) {
            if (fn === 'cleanup') cleanupEvents.push(event);
            if (fn !== 'transport') return local.invoke(fn, event, timeoutMs);
            transportEvents.push(event);
            const answer = await local.invoke(fn, event, timeoutMs);
            await gate;
            return answer;
          },
          close: () => local.close(),
        };
        return invoker;
      },
    });
    return cluster;
  }

  it("a join's ack and page and every pong reach the client from transport's answer, in order, without a push", async () => {
    const node = (await start()).nodes[0]!;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'quiet' }));
    a.send({ type: 'join', ref: 'j' });
    for (const ref of ['p1', 'p2', 'p3']) a.send({ type: 'ping', ref });
    expect(await a.next(ofType('ack'))).toMatchObject({ for: 'join', ref: 'j', online: 1 });
    expect(await a.next(ofType('history'))).toMatchObject({ ref: 'j', messages: [] });
    const pongs = [await a.next(ofType('pong')), await a.next(ofType('pong')), await a.next(ofType('pong'))];
    expect(pongs.map((p) => p.ref)).toEqual(['p1', 'p2', 'p3']);
    expect(transportEvents).toHaveLength(4);
    expect(transportEvents[0]).toMatchObject({ websocket: { inlineReplies: true } });
    expect(node.metrics.count('replies_total', { outcome: 'delivered' })).toBe(5);
    // Alone in its room, the client is told nothing else: no push at all reached the gateway.
    expect(node.metrics.count('pushes_total', { outcome: 'delivered' })).toBe(0);
    await a.close();
  });

  it('the room still hears by push; the sender hears its ack from the answer', async () => {
    const node = (await start()).nodes[0]!;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'pair' }));
    const b = await connectClient(node.wsUrl, connectProtocols({ nick: 'ben', room: 'pair' }));
    a.send('hello ben');
    expect(await b.next(ofType('message'))).toMatchObject({ text: 'hello ben', from: 'ana' });
    expect(await a.next(ofType('ack'))).toMatchObject({ for: 'message', delivered: 1 });
    expect(node.metrics.count('pushes_total', { outcome: 'delivered' })).toBe(1);
    expect(node.metrics.count('replies_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
    await a.close();
    await b.close();
  });

  it('hands transport the record register answered, and after a rename the one transport answered', async () => {
    const node = (await start()).nodes[0]!;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'ctx' }));
    a.send({ type: 'join', ref: 'j' });
    await a.next(ofType('history'));
    a.send({ type: 'nick', nick: 'anna', ref: 'n' });
    expect(await a.next(ofType('ack', { for: 'nick' }))).toMatchObject({ nick: 'anna' });
    a.send({ type: 'ping', ref: 'p' });
    await a.next(ofType('pong'));
    const contexts = transportEvents.map((event) => decodeContext('x', contextOf(event)));
    expect(contexts).toEqual([
      expect.objectContaining({ nick: 'ana', room: 'ctx' }),
      expect.objectContaining({ nick: 'ana', room: 'ctx' }),
      expect.objectContaining({ nick: 'anna', room: 'ctx' }),
    ]);
    await a.close();
    await node.hub.settled();
    // And with its close, so that cleanup need not read it either.
    expect(cleanupEvents).toHaveLength(1);
    expect(decodeContext('x', contextOf(cleanupEvents[0]))).toMatchObject({ nick: 'anna', room: 'ctx' });
  });

  it('sends no record with frames that run side by side, and forgets it when they answer', async () => {
    const node = (await start()).nodes[0]!;
    node.hub.config.limits.maxInflightPerConnection = 2;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'pair' }));
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    a.send({ type: 'nick', nick: 'anna', ref: 'n' });
    // (Not a ping: its heartbeat rewrites the record it read, and could undo the rename running beside it.)
    a.send({ type: 'history', ref: 'h' });
    await eventually(() => transportEvents.length === 2);
    // The second frame went while the first (a rename) was in transport: it carries no record.
    expect(
      [contextOf(transportEvents[0]), contextOf(transportEvents[1])].map((c) => c !== undefined),
    ).toEqual([true, false]);
    release();
    await a.next(ofType('history'));
    await node.hub.settled();
    gate = undefined;
    a.send({ type: 'ping', ref: 'p2' });
    await a.next(ofType('pong', { ref: 'p2' }));
    a.send({ type: 'ping', ref: 'p3' });
    await a.next(ofType('pong', { ref: 'p3' }));
    // Forgotten after answers that overlapped; then read by transport, answered, and kept with the new nick.
    expect(contextOf(transportEvents[2])).toBeUndefined();
    expect(decodeContext('x', contextOf(transportEvents[3]))).toMatchObject({ nick: 'anna' });
    await a.close();
  });

  it('drops the replies of a client that left before transport answered, as a push to it would be', async () => {
    const node = (await start()).nodes[0]!;
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'gone' }));
    a.send({ type: 'ping', ref: 'late' });
    await eventually(() => transportEvents.length === 1);
    a.socket.terminate();
    await eventually(() => node.hub.connectionCount() === 0);
    release();
    await node.hub.settled();
    expect(node.metrics.count('replies_total', { outcome: 'gone' })).toBe(1);
    expect(node.metrics.count('replies_total', { outcome: 'delivered' })).toBe(0);
  });
});
