import type { PushClient } from '../../code/push/push-client';
import { createHttpPushClient } from '../../code/push/http-push-client';
import { RecordingPush } from '../helpers/fakes';
import { startPushSink, type PushSink } from '../helpers/push-sink';

/** What every PushClient promises (code/push/push-client.ts), on the fake and on the real HTTP client alike. */

interface PushWorld {
  client: PushClient;
  /** The gateway no longer knows this connection. */
  forget(connectionId: string): void;
  /** The frames the gateway took for a connection, parsed. */
  received(connectionId: string): unknown[];
  closed(): string[];
}

interface PushImplementation {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  world(): PushWorld;
}

function recording(): PushImplementation {
  return {
    name: 'RecordingPush (test/helpers/fakes.ts)',
    start: async () => undefined,
    stop: async () => undefined,
    world() {
      const push = new RecordingPush();
      return {
        client: push,
        forget: (id) => push.gone.add(id),
        received: (id) => push.to(id),
        closed: () => push.closed,
      };
    },
  };
}

function http(): PushImplementation {
  let sink: PushSink | undefined;
  return {
    name: 'HTTP push client against a push endpoint',
    async start() {
      sink = await startPushSink();
    },
    async stop() {
      await sink?.close();
    },
    world() {
      const endpoint = sink!;
      endpoint.gone.clear();
      endpoint.received.clear();
      endpoint.closed.length = 0;
      return {
        client: createHttpPushClient({
          url: endpoint.url,
          secret: 'push-contract-secret-0123456789abcdef',
          concurrency: 4,
          timeoutMs: 2000,
          retries: 0,
          budgetMs: 5000,
        }),
        forget: (id) => endpoint.gone.add(id),
        received: (id) => (endpoint.received.get(id) ?? []).map((frame) => JSON.parse(frame) as unknown),
        closed: () => endpoint.closed,
      };
    },
  };
}

describe.each([recording(), http()])('PushClient: $name', (implementation) => {
  beforeAll(() => implementation.start());
  afterAll(() => implementation.stop());

  it('delivers a frame to a known connection', async () => {
    const { client, received } = implementation.world();
    expect(await client.send('a+b/c=', '{"type":"pong"}')).toBe('delivered');
    expect(received('a+b/c=')).toEqual([{ type: 'pong' }]);
  });

  it('reports a connection the gateway does not know as gone, for sends and closes', async () => {
    const { client, forget, received, closed } = implementation.world();
    forget('dead=');
    expect(await client.send('dead=', '{"type":"pong"}')).toBe('gone');
    expect(await client.close('dead=')).toBe('gone');
    expect(received('dead=')).toEqual([]);
    expect(closed()).toEqual([]);
  });

  it('asks the gateway to close a connection', async () => {
    const { client, closed } = implementation.world();
    expect(await client.close('a=')).toBe('delivered');
    expect(closed()).toEqual(['a=']);
  });
});
