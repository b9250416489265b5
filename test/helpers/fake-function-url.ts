import http from 'http';
import type { AddressInfo } from 'net';
import type { ScfFunction } from '../../scripts/local/local-invoker';

/**
 * A stand-in for SCF function URLs, built from Tencent's own description of them
 * (https://cloud.tencent.com/document/product/583/96099, "事件函数"), not from our code:
 *   - the request becomes the event `{body, headers, httpMethod, path, queryString}`: header names lower-cased,
 *     the client address in `x-scf-remote-addr`, and no isBase64Encoded, requestContext or *Parameters fields;
 *   - the function's `{statusCode, headers, body}` becomes the HTTP answer; a return value without `statusCode`
 *     is sent as 200 `application/json` with the value as the body;
 *   - a function that throws is an invocation error; the fake answers 502 with an error JSON.
 * One path per function: `/<name>` stands in for `https://<appid>-<urlid>.<region>.tencentscf.com`.
 */

export interface FakeFunctionUrls {
  url(name: string): string;
  requests: number;
  close(): Promise<void>;
}

export async function startFakeFunctionUrls(
  functions: Record<string, ScfFunction>,
): Promise<FakeFunctionUrls> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests += 1;
      const url = new URL(req.url ?? '/', 'http://fake');
      const handler = functions[url.pathname.slice(1)];
      if (!handler) return void res.writeHead(404).end();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name.toLowerCase()] = value;
      }
      headers['x-scf-remote-addr'] = req.socket.remoteAddress ?? '';
      const event = {
        body: Buffer.concat(chunks).toString('utf8'),
        headers,
        httpMethod: req.method ?? 'GET',
        path: '/',
        queryString: Object.fromEntries(url.searchParams),
      };
      handler(event, { callbackWaitsForEmptyEventLoop: true }).then(
        (result) => {
          const reply = result as {
            statusCode?: unknown;
            headers?: Record<string, string>;
            body?: unknown;
          } | null;
          if (reply && typeof reply === 'object' && typeof reply.statusCode === 'number') {
            res.writeHead(reply.statusCode, reply.headers ?? {});
            return void res.end(
              typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? ''),
            );
          }
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(result));
        },
        (error: unknown) => {
          res.writeHead(502, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ errorCode: -1, errorMessage: String(error) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
