import WebSocket from 'ws';
import { connectProtocols } from '../../../code/chat/protocol';
import { startCluster, CLUSTER_SECRET, type Cluster } from '../../helpers/gateway-cluster';
import { connectClient, ofType, type TestClient } from '../../helpers/ws-client';
import { pushText, signedPush } from '../../helpers/raw-http';

/** Three gateway nodes on loopback, one set of functions, one store: what a load balancer would spread over. */

async function join(url: string, nick: string, since?: string): Promise<TestClient> {
  const client = await connectClient(url, connectProtocols({ nick, room: 'stage' }));
  client.send({ type: 'join', room: 'stage', ...(since ? { since } : {}) });
  await client.next(ofType('history'));
  return client;
}

describe('three gateway nodes', () => {
  let cluster: Cluster;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    cluster = await startCluster(3);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.close();
  });

  it('lets clients on different nodes chat; pushes reach the node that holds each connection', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const a = await join(n1!.wsUrl, 'ana');
    const b = await join(n2!.wsUrl, 'ben');
    const c = await join(n3!.wsUrl, 'cai');
    clients.push(a, b, c);
    expect(n1!.hub.connectionIds()[0]).toMatch(/^n1\+/);
    expect(n3!.hub.connectionIds()[0]).toMatch(/^n3\+/);
    a.send('hello from node 1');
    for (const other of [b, c])
      expect(await other.next(ofType('message'))).toMatchObject({ text: 'hello from node 1' });
    c.send('hi from node 3');
    expect(await a.next(ofType('message'))).toMatchObject({ text: 'hi from node 3', from: 'cai' });
    // A push that reaches node 1 for node 3's connection is forwarded there.
    const cId = n3!.hub.connectionIds()[0]!;
    const answer = await signedPush(
      cluster.env.PUSH_URL!,
      CLUSTER_SECRET,
      pushText(cId, '{"v":1,"type":"notice","text":"direct"}'),
    );
    expect(answer.status).toBe(200);
    expect(await c.next(ofType('notice'))).toMatchObject({ text: 'direct' });
    expect(n1!.metrics.count('pushes_total', { outcome: 'forwarded_200' })).toBeGreaterThan(0);
  });

  it('loses only the dead node’s clients, who reconnect elsewhere and catch up on everything they missed', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const a = await join(n1!.wsUrl, 'ada');
    const b = await join(n2!.wsUrl, 'bo');
    const c = await join(n3!.wsUrl, 'cy');
    clients.push(a, c);
    a.send('before the crash');
    const seen = await b.next((f) => f.type === 'message' && f.text === 'before the crash');
    await c.next((f) => f.type === 'message' && f.text === 'before the crash');

    await n2!.kill();
    expect(await b.closed).toBe(1006);
    expect(a.socket.readyState).toBe(WebSocket.OPEN);
    expect(c.socket.readyState).toBe(WebSocket.OPEN);

    const missed = ['one', 'two', 'three'];
    for (const text of missed) {
      a.send(text);
      await a.next((f) => f.type === 'ack' && f.for === 'message');
    }
    for (const text of missed) expect(await c.next(ofType('message'))).toMatchObject({ text });

    const back = await connectClient(n3!.wsUrl, connectProtocols({ nick: 'bo', room: 'stage' }));
    clients.push(back);
    back.send({ type: 'join', room: 'stage', since: seen.id as string });
    const history = await back.next(ofType('history'));
    expect((history.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(missed);
    expect(history.more).toBe(false);
  });
});
