import http from 'http';
import type { AddressInfo } from 'net';

/**
 * A real HTTP push endpoint that records every push per connection, for tests that need exact per-recipient
 * counts. IDs in `gone` are answered the way the gateway emulator answers an unknown connection.
 */
export interface PushSink {
  url: string;
  received: Map<string, string[]>;
  closed: string[];
  gone: Set<string>;
  close(): Promise<void>;
}

export async function startPushSink(): Promise<PushSink> {
  const received = new Map<string, string[]>();
  const closed: string[] = [];
  const gone = new Set<string>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { websocket } = JSON.parse(raw) as {
        websocket: { action: string; secConnectionID: string; data?: string };
      };
      const id = websocket.secConnectionID;
      let reply = { errNo: 0, errMsg: 'ok' };
      if (gone.has(id)) reply = { errNo: 1, errMsg: 'connection not found' };
      else if (websocket.action === 'closing') closed.push(id);
      else received.set(id, [...(received.get(id) ?? []), websocket.data ?? '']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`,
    received,
    closed,
    gone,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
