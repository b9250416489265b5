import type { IncomingMessage } from 'http';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { connectProtocols } from '../../../code/chat/protocol';
import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import { connectClient, type TestClient } from '../../helpers/ws-client';

/**
 * What the gateway keeps of a connection once it is open. The upgrade request (its headers, raw headers and the
 * handshake's timer with it) is done with then; a closure left on the socket kept it for the connection's life,
 * about 2.6 KiB of the 7.3 KiB the gateway held per connection (docs/benchmarks.md, 2026-12-08).
 */

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/** A fresh macrotask: a WeakRef's target is kept alive until the job that made or read it ends. */
const nextTask = () => new Promise((resolve) => setImmediate(resolve));

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(() => stack.close());

it('lets go of the upgrade request once the connection is open', async () => {
  const requests: Array<WeakRef<IncomingMessage>> = [];
  const { hub } = stack.gateway;
  const handleUpgrade = hub.handleUpgrade;
  hub.handleUpgrade = (req, ...rest) => {
    requests.push(new WeakRef(req));
    handleUpgrade(req, ...rest);
  };
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 5; i += 1) {
      const client = await connectClient(stack.wsUrl, connectProtocols({ room: 'held', nick: `h${i}` }));
      clients.push(client);
      client.send({ type: 'join', room: 'held', ref: 'j' });
      await client.next((frame) => frame.type === 'ack' && frame.for === 'join');
    }
    expect(stack.gateway.connectionIds()).toHaveLength(5);
    expect(requests).toHaveLength(5);
    await nextTask();
    collectGarbage();
    await nextTask();
    expect(requests.filter((request) => request.deref() !== undefined)).toHaveLength(0);
    // Still open and served after the collection.
    clients[0]!.send({ type: 'message', text: 'still here', ref: 'm' });
    await clients[4]!.next((frame) => frame.type === 'message' && frame.text === 'still here');
  } finally {
    hub.handleUpgrade = handleUpgrade;
    await Promise.all(clients.map((client) => client.close()));
  }
});
