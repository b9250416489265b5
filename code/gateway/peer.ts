import http from 'http';
import { FORWARDED_HEADER } from './http';

/**
 * Forwarding to the node that holds a connection (pushes, SSE sends): one POST to its private listener, marked
 * as forwarded so it is never passed on again. The peer's answer becomes ours; a peer that refuses connections
 * is down, and the connections it held are gone with it.
 */

export interface PeerAnswer {
  status: number;
  body: string;
}

export interface PeerFailures {
  /** The node is down (connection refused). */
  down: string;
  /** Anything else: a timeout, a reset. */
  unreachable: string;
}

export function postToPeer(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: { agent?: http.Agent; timeoutMs: number; maxAnswerChars: number; failures: PeerFailures },
): Promise<PeerAnswer> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: options.agent,
        headers: { ...headers, 'Content-Length': body.length, [FORWARDED_HEADER]: '1' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text = (text + chunk).slice(0, options.maxAnswerChars)));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, body: text }));
        res.on('error', () => resolve({ status: 502, body: options.failures.unreachable }));
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error('peer timed out')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ECONNREFUSED'
          ? { status: 410, body: options.failures.down }
          : { status: 502, body: options.failures.unreachable },
      ),
    );
    req.end(body);
  });
}
