import { connectProtocols } from '../../../code/chat/protocol';
import { startCluster, type Cluster } from '../../helpers/gateway-cluster';
import { openSse, postSend } from '../../helpers/sse-client';
import { connectClient, ofType } from '../../helpers/ws-client';

/** Behind a load balancer, a stream's POSTs may land on any node: they are passed to the one holding it. */

describe('SSE on two gateway nodes', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(() => cluster.close());

  it('answers a send that reached the other node, through the node that holds the stream', async () => {
    const [n1, n2] = cluster.nodes;
    const ana = await connectClient(n1!.wsUrl, connectProtocols({ nick: 'ana', room: 'split' }));
    ana.send({ type: 'join', room: 'split', ref: 'j' });
    await ana.next(ofType('history', { ref: 'j' }));
    const stream = await openSse(`${n2!.publicUrl}events?room=split&nick=ben`);

    const answer = await postSend(
      `${n1!.publicUrl}events/send`,
      JSON.stringify({ type: 'message', text: 'posted to node 1, streamed on node 2' }),
      { 'Content-Type': 'application/json', Authorization: `Bearer ${stream.credential}` },
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ type: 'ack', for: 'message' });
    expect(await ana.next(ofType('message'))).toMatchObject({
      text: 'posted to node 1, streamed on node 2',
      from: 'ben',
    });

    ana.send({ type: 'message', text: 'and back', ref: 'b' });
    await stream.next((e) => e.event === 'message' && e.json?.text === 'and back');
    stream.close();
    await ana.close();
  });
});
