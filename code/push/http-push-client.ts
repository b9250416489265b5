import http from 'http';
import https from 'https';
import axios, { type AxiosInstance } from 'axios';
import type { PushSettings } from '../config';
import { pushCloseBody, pushDataBody, type PushBody } from '../tencent/gateway';
import type { PushClient, PushOutcome } from './push-client';

/**
 * How a push answer is read. Tencent documents the request but not the answer for a dead connection (see
 * shared/docs/tencent-websocket-protocol.md §7), so we treat as gone:
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

const BASE_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

function backoff(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(retryAfterSeconds * 1000, MAX_BACKOFF_MS);
  }
  // Full jitter: spreads the retries of a large fan-out so they do not arrive at the gateway together.
  return Math.random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createHttpPushClient(settings: PushSettings, client?: AxiosInstance): PushClient {
  // One keep-alive agent per container: a broadcast reuses sockets instead of a TCP handshake per push.
  const agentOptions = {
    keepAlive: true,
    maxSockets: settings.concurrency,
    maxFreeSockets: settings.concurrency,
  };
  const httpClient =
    client ??
    axios.create({
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      timeout: settings.timeoutMs,
      // With maxRedirects 0 axios uses Node's http module directly instead of follow-redirects, which
      // roughly halves its CPU per request; the push URL never redirects.
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      // The body is already a JSON string and the answer is read by classifyPushResponse: without these
      // identities axios JSON.parses every outgoing body to "validate" it and every answer (measured in
      // `npm run bench`; ~10% of a push's CPU).
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      // The push URL is reached directly; `false` also skips axios's per-request proxy lookup in process.env.
      proxy: false,
      headers: { 'Content-Type': 'application/json' },
    });

  async function post(body: PushBody, deadline: number | undefined): Promise<PushOutcome> {
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt += 1) {
      let verdict: PushVerdict;
      let retryAfter: number | undefined;
      try {
        const response = await httpClient.post<string>(settings.url, payload);
        verdict = classifyPushResponse(
          response.status,
          typeof response.data === 'string' ? response.data : '',
        );
        const header = response.headers['retry-after'];
        retryAfter = header === undefined ? undefined : Number(header);
      } catch {
        verdict = 'retry'; // network error or timeout
      }
      if (verdict !== 'retry') return verdict;
      if (attempt >= settings.retries) return 'failed';
      const wait = backoff(attempt, retryAfter);
      if (deadline !== undefined && Date.now() + wait + settings.timeoutMs > deadline) return 'failed';
      await sleep(wait);
    }
  }

  return {
    send: (connectionId, text, options) => post(pushDataBody(connectionId, text), options?.deadline),
    close: (connectionId, options) => post(pushCloseBody(connectionId), options?.deadline),
  };
}
