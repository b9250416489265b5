import WebSocket from 'ws';
import { connectProtocols } from '../../../code/chat/protocol';
import { createUrlInvoker } from '../../../code/gateway/invoker';
import { buildFrameEvent } from '../../../code/tencent/gateway';
import { startCluster, CLUSTER_SECRET, type Cluster } from '../../helpers/gateway-cluster';
import { startFakeFunctionUrls, type FakeFunctionUrls } from '../../helpers/fake-function-url';
import { connectClient, ofType } from '../../helpers/ws-client';
import { request } from '../../helpers/raw-http';

/** The production invoker: function URLs, signed, against a fake built from Tencent's documented shapes. */

describe('the function-URL invoker', () => {
  const fakes: FakeFunctionUrls[] = [];
  const start = async (secret: string) =>
    startCluster(1, {
      env: { PUBLISH_TOKEN: 'publish-token' },
      invokerFor: async (functions) => {
        const fake = await startFakeFunctionUrls(functions);
        fakes.push(fake);
        return createUrlInvoker(
          {
            register: fake.url('register'),
            transport: fake.url('transport'),
            cleanup: fake.url('cleanup'),
            publish: fake.url('publish'),
          },
          secret,
        );
      },
    });
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it('runs the whole chat through function URLs: handshake, frames, publish, cleanup', async () => {
    cluster = await start(CLUSTER_SECRET);
    const node = cluster.nodes[0]!;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'lobby' }));
    const b = await connectClient(node.wsUrl, connectProtocols({ nick: 'ben', room: 'lobby' }));
    a.send('through a function URL');
    expect(await b.next(ofType('message'))).toMatchObject({ text: 'through a function URL', from: 'ana' });
    const published = await request(`${node.publicUrl}publish`, {
      method: 'POST',
      headers: { Authorization: 'Bearer publish-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ room: 'lobby', text: 'from a backend' }),
    });
    expect(published.status).toBe(200);
    expect(await a.next(ofType('message'))).toMatchObject({ text: 'from a backend' });
    await a.close();
    await b.close();
    await node.hub.settled();
    expect(cluster.cos.cos.keys('test-1250000000', 'app/room/')).toEqual([]);
    expect(fakes[0]!.requests).toBeGreaterThanOrEqual(6);
  });

  it('refuses an unsigned call to a function URL: nothing reaches the chat', async () => {
    cluster = await start(CLUSTER_SECRET);
    const node = cluster.nodes[0]!;
    const a = await connectClient(node.wsUrl, connectProtocols({ nick: 'ana', room: 'lobby' }));
    const b = await connectClient(node.wsUrl, connectProtocols({ nick: 'ben', room: 'lobby' }));
    const aId = node.hub.connectionIds()[0]!;
    // Someone who found the transport URL posts a frame event "from" a's connection, without the signature.
    const forged = await request(fakes[0]!.url('transport'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(buildFrameEvent(aId, 'text', 'forged message')),
    });
    // Unsigned, the body is never unwrapped: to transport it is a malformed event, and it does nothing.
    expect(forged.status).toBe(200);
    b.send('real');
    expect(await a.next(ofType('message'))).toMatchObject({ text: 'real' });
    expect(b.frames.concat(a.frames).some((f) => f.text === 'forged message')).toBe(false);
    await a.close();
    await b.close();
  });

  it('refuses every handshake when the gateway signs with the wrong secret', async () => {
    cluster = await start('a-different-secret-of-enough-length-000');
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(cluster!.nodes[0]!.wsUrl);
      socket.once('open', () => resolve(101));
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => resolve(0));
    });
    expect(status).toBe(502);
  });
});
