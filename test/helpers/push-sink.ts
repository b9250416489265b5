import http from 'http';
import type { AddressInfo } from 'net';
import { readBody } from '../../code/gateway/http';
import { parsePushBody } from '../../code/tencent/gateway';

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
    const answer = (status: number, reply: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply));
    };
    // Read as the gateway's push listener reads it: the same body reader and push-body parser.
    readBody(req, 1024 * 1024)
      .then((body) => {
        const push = parsePushBody(JSON.parse(body.toString('utf8')) as unknown);
        const id = push.connectionId;
        if (gone.has(id)) return answer(200, { errNo: 1, errMsg: 'connection not found' });
        if (push.kind === 'close') closed.push(id);
        else received.set(id, [...(received.get(id) ?? []), push.data]);
        answer(200, { errNo: 0, errMsg: 'ok' });
      })
      .catch((error: unknown) => answer(400, { errNo: 1, errMsg: String(error) }));
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
