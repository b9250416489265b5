import http from 'http';
import https from 'https';
import type { PushSettings } from '../config';
import { pushCloseBody, pushDataBody, type PushBody } from '../tencent/gateway';
import { backoffDelay } from '../util/backoff';
import { SIGNATURE_HEADER, signBody } from '../util/signature';
import type { PushClient, PushOutcome } from './push-client';

/**
 * How a push answer is read. Tencent documents the request but not the answer for a dead connection
 * (cloud.tencent.com/document/product/583/32553 shows only the request), so we treat as gone:
 *   - HTTP 404 or 410, and
 *   - HTTP 2xx whose JSON body carries a non-zero `errNo` (the gateway took the request but has no such
 *     connection; Tencent APIs report errors in the body with HTTP 200).
 * Retried: network errors, timeouts, 429 and 5xx. Other 4xx are our fault (bad URL or body): failed, no retry.
 * A connection misclassified as live is still pruned by the last-seen TTL, so an unexpected answer costs a few
 * wasted pushes, never a stuck registry.
 */
export type PushVerdict = PushOutcome | 'retry';

export function classifyPushResponse(status: number, body: string): PushVerdict {
  if (status === 404 || status === 410) return 'gone';
  if (status === 429 || status >= 500) return 'retry';
  if (status < 200 || status >= 300) return 'failed';
  try {
    const parsed = JSON.parse(body) as { errNo?: unknown } | null;
    if (typeof parsed?.errNo === 'number' && parsed.errNo !== 0) return 'gone';
  } catch {
    // A 2xx without a JSON body is a success: the documented protocol says nothing about the answer.
  }
  return 'delivered';
}

/** Full jitter spreads the retries of a large fan-out so they do not arrive at the gateway together. */
const BACKOFF = { baseMs: 50, maxMs: 1000 };
/** The gateway answers with a few characters of JSON; anything longer is not kept (and not needed to classify). */
const MAX_ANSWER_CHARS = 16 * 1024;

function backoff(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(retryAfterSeconds * 1000, BACKOFF.maxMs);
  }
  return backoffDelay(attempt, BACKOFF);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: string;
  retryAfter?: number;
}

/**
 * The push client is Node's own `http.request` over one keep-alive agent, not axios. A broadcast is one push per
 * recipient and the waits overlap, so the client's CPU per request sets the fan-out time. Measured on the
 * reference VM, 10,000 pushes at 48 in flight: ~390 µs of CPU per push through axios (~370 µs even with a bare
 * adapter: its config merging and header handling run per request), ~170 µs through `http.request`. Without
 * axios the bundle's require also fell from ~109 ms to ~40 ms. See docs/benchmarks.md.
 */
export function createHttpPushClient(settings: PushSettings): PushClient {
  const target = new URL(settings.url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:')
    throw new Error(`PUSH_URL must be http(s), not ${target.protocol}`);
  // One agent per container: a broadcast reuses its sockets instead of a TCP handshake per push.
  const agentOptions = {
    keepAlive: true,
    maxSockets: settings.concurrency,
    maxFreeSockets: settings.concurrency,
  };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const request = secure ? https.request : http.request;
  const base = {
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname.replace(/^\[|\]$/g, ''), // an IPv6 literal without its brackets
    port: target.port,
    path: `${target.pathname}${target.search}`,
    agent,
  };
  /** One attempt. Rejects on a network error or when the socket stays silent for timeoutMs. */
  const attempt = (payload: string) =>
    new Promise<Answer>((resolve, reject) => {
      // Signed per attempt, so a retry after a long backoff still falls inside the gateway's window.
      const headers = {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        [SIGNATURE_HEADER]: signBody(settings.secret, 'push', payload),
      };
      const req = request({ ...base, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_ANSWER_CHARS) body += chunk;
        });
        res.on('end', () => {
          const header = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            body,
            retryAfter: header === undefined ? undefined : Number(header),
          });
        });
        res.on('error', reject);
      });
      req.setTimeout(settings.timeoutMs, () =>
        req.destroy(new Error(`push timed out after ${settings.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });

  async function post(body: PushBody, deadline: number | undefined): Promise<PushOutcome> {
    const payload = JSON.stringify(body);
    for (let tries = 0; ; tries += 1) {
      let verdict: PushVerdict;
      let retryAfter: number | undefined;
      try {
        const answer = await attempt(payload);
        verdict = classifyPushResponse(answer.status, answer.body);
        retryAfter = answer.retryAfter;
      } catch {
        verdict = 'retry'; // network error or timeout
      }
      if (verdict !== 'retry') return verdict;
      if (tries >= settings.retries) return 'failed';
      const wait = backoff(tries, retryAfter);
      if (deadline !== undefined && Date.now() + wait + settings.timeoutMs > deadline) return 'failed';
      await sleep(wait);
    }
  }

  return {
    send: (connectionId, text, options) => post(pushDataBody(connectionId, text), options?.deadline),
    close: (connectionId, options) => post(pushCloseBody(connectionId), options?.deadline),
  };
}
