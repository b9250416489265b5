import http from 'http';
import https from 'https';
import { environmentKeys, type CosSettings } from '../config';
import { backoffDelay } from '../util/backoff';
import { camSafeUrlEncode, createCosSigner } from './cos-sign';
import { xmlText } from './cos-xml';

/**
 * COS's XML API over Node's own `http.request`, signed as the SDK signs (cos-sign.ts).
 *
 * Why not the SDK's request path: it runs every call through `cos-request` (a fork of `request`), its task and
 * retry machinery and its event plumbing: 1.6–2.5× the CPU per small PUT or GET (0.37–0.47 ms against
 * 0.19–0.25 ms), measured side by side against the local COS server (`npm run bench -- --only cosclient`,
 * docs/benchmarks.md). A join makes four COS requests; on SCF, CPU is billed duration. The same decision, for the
 * same reason, as the push client's `http.request` over axios. Keys are read from the environment per request: an
 * SCF execution role's temporary keys expire, and whether SCF replaces them inside a warm container is undocumented.
 *
 * What the SDK did that matters is kept, with the same rules: the request shape (path-style through a custom
 * endpoint, else `<bucket>.cos.<region>.myqcloud.com`, keys encoded as its `camSafeUrlEncode` does), the signed
 * headers, `x-cos-security-token` with an execution role's keys, retries of 5xx and network errors (4 tries in
 * all), and one retry with the server's clock after `RequestTimeTooSkewed`.
 * test/integration/cos-http.test.ts checks the requests against the SDK's, Authorization included.
 */

export interface CosCall {
  method: 'GET' | 'PUT' | 'POST';
  /** The whole object key (the store's prefix included); '' for the bucket itself. */
  key: string;
  query?: Record<string, string>;
  /** Sent and signed (besides Host and Content-Length). */
  headers?: Record<string, string>;
  body?: string;
}

export interface CosAnswer {
  status: number;
  body: string;
  /** COS's error code (`<Error><Code>`), when the answer is an error with a body. */
  code?: string;
  /** The server's Date header, kept with an error: the clock to sign with after a clock error. */
  date?: string;
}

/**
 * One call, retried as the SDK retries. At `deadline` (a Date.now() time) the attempt in flight is cut off and no
 * retry starts: the call fails with a CosDeadlineError. One timer per attempt does this, where an AbortController,
 * a race and a second timer per call did before (with cos-sign.ts, 221–248 µs per PUT instead of 262–312 µs).
 */
export type CosSend = (call: CosCall, deadline?: number) => Promise<CosAnswer>;

/** The call's deadline passed before COS answered it. */
export class CosDeadlineError extends Error {
  override readonly name = 'CosDeadlineError';
}

/** A listing of 1000 keys is ~300 KB; nothing this app stores is near this. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
const TRIES = 4;
const RETRY_BACKOFF = { baseMs: 50, maxMs: 1000 };

function isClockError(answer: CosAnswer): boolean {
  return (
    answer.code === 'RequestTimeTooSkewed' ||
    (answer.code === 'AccessDenied' && xmlText(answer.body, 'Message') === 'Request has expired')
  );
}

export function createCosSend(settings: CosSettings, env: NodeJS.ProcessEnv = process.env): CosSend {
  const endpoint = settings.endpoint
    ? new URL(settings.endpoint.replace(/\/+$/, '') + '/' + settings.bucket)
    : new URL(`https://${settings.bucket}.cos.${settings.region}.myqcloud.com`);
  const secure = endpoint.protocol === 'https:';
  if (!secure && endpoint.protocol !== 'http:')
    throw new Error(`COS_ENDPOINT must be http(s), not ${endpoint.protocol}`);
  // One agent per container, as the SDK's KeepAlive: a join's requests reuse sockets.
  const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64 };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const request = secure ? https.request : http.request;
  const basePath = endpoint.pathname.replace(/\/+$/, '');
  // http.request takes an IPv6 literal without its brackets.
  const hostname = endpoint.hostname.replace(/^\[|\]$/g, '');
  let clockOffsetMs = 0;
  const sign = createCosSigner();

  /** One attempt, cut off after `limitMs` with the error `cutOff` makes. */
  function attempt(call: CosCall, limitMs: number, cutOff: () => Error): Promise<CosAnswer> {
    const keys = environmentKeys(env) ?? settings;
    const body = call.body ?? '';
    const signed: Record<string, string> = {
      ...call.headers,
      Host: endpoint.host,
      ...(call.method === 'GET' ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }),
    };
    const authorization = sign({
      secretId: keys.secretId,
      secretKey: keys.secretKey,
      method: call.method,
      pathname: '/' + call.key,
      query: call.query ?? {},
      headers: signed,
      nowMs: Date.now() + clockOffsetMs,
      expiresSeconds: 900,
    });
    const headers: Record<string, string> = { ...signed, Authorization: authorization };
    if (keys.sessionToken) headers['x-cos-security-token'] = keys.sessionToken;
    const query = Object.entries(call.query ?? {})
      .map(([name, value]) => `${camSafeUrlEncode(name)}=${camSafeUrlEncode(value)}`)
      .join('&');
    const path = `${basePath}/${camSafeUrlEncode(call.key).replace(/%2F/g, '/')}${query ? `?${query}` : ''}`;
    return new Promise<CosAnswer>((resolve, reject) => {
      const req = request(
        {
          method: call.method,
          protocol: endpoint.protocol,
          hostname,
          port: endpoint.port,
          path,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES)
              req.destroy(new Error(`COS answered with over ${MAX_ANSWER_BYTES} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status < 300) return resolve({ status, body: text });
            resolve({ status, body: text, code: xmlText(text, 'Code'), date: res.headers.date });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => req.destroy(cutOff()), limitMs);
      function fail(error: Error) {
        clearTimeout(timer);
        reject(error);
      }
      req.on('error', fail);
      req.end(body);
    });
  }

  const pause = (tries: number) =>
    new Promise((resolve) => setTimeout(resolve, backoffDelay(tries - 1, RETRY_BACKOFF)));

  return async (call, deadline) => {
    const remaining = () => (deadline === undefined ? Infinity : deadline - Date.now());
    const expired = () => new CosDeadlineError("the call's deadline passed before COS answered");
    const timedOut = () => new Error(`no answer from COS in ${settings.timeoutMs} ms`);
    let clockRetried = false;
    for (let tries = 1; ; tries += 1) {
      const left = remaining();
      if (left <= 0) throw expired();
      let answer: CosAnswer;
      try {
        answer =
          left <= settings.timeoutMs
            ? await attempt(call, left, expired)
            : await attempt(call, settings.timeoutMs, timedOut);
      } catch (error) {
        if (tries >= TRIES || error instanceof CosDeadlineError) throw error;
        await pause(tries);
        continue;
      }
      if (answer.status >= 500 && tries < TRIES) {
        await pause(tries);
        if (remaining() <= 0) return answer;
        continue;
      }
      if (!clockRetried && isClockError(answer) && answer.date !== undefined) {
        // Signed with a clock COS disagrees with: sign again with the server's (the SDK's CorrectClockSkew).
        const serverTime = Date.parse(answer.date);
        if (Number.isFinite(serverTime)) {
          clockOffsetMs = serverTime - Date.now();
          clockRetried = true;
          continue;
        }
      }
      return answer;
    }
  };
}
