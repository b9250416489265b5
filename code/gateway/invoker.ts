import http from 'http';
import https from 'https';
import { SIGNATURE_HEADER, signBody } from '../util/signature';
import type { FunctionUrls } from './config';

/**
 * How the gateway calls the functions. The production invoker posts to each function's URL (an SCF event
 * function behind a function URL: docs/gateway.md says why not the Invoke API); `npm start` plugs in one that
 * runs the handler modules or bundles locally. Every invoker takes the plain Tencent event and resolves to what
 * the function returned.
 */

export type FunctionName = 'register' | 'transport' | 'cleanup' | 'publish';

export interface Invoker {
  invoke(fn: FunctionName, event: unknown, timeoutMs: number): Promise<unknown>;
  close(): Promise<void>;
}

export class InvocationError extends Error {
  override readonly name = 'InvocationError';
  constructor(
    message: string,
    readonly kind: 'timeout' | 'failed',
  ) {
    super(message);
  }
}

/** An answer is JSON of a few hundred bytes, or transport's replies (held under 256 Ki characters: context.ts). */
const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * SCF function URLs (583/96099): the event function receives `{body, headers, httpMethod, path, queryString}` and
 * its `{statusCode, headers, body}` becomes the HTTP answer. The body we send is the Tencent event as JSON; the
 * signature header proves it came from this gateway, since a URL with AuthType NONE is open to anyone who finds it.
 */
export function createUrlInvoker(urls: FunctionUrls, secret: string, maxSockets = 256): Invoker {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  const targets = new Map<FunctionName, URL>();
  for (const [name, url] of Object.entries(urls) as Array<[FunctionName, string | undefined]>) {
    if (url !== undefined) targets.set(name, new URL(url));
  }
  return {
    invoke(fn, event, timeoutMs) {
      const target = targets.get(fn);
      if (target === undefined) return Promise.reject(new InvocationError(`no URL for ${fn}`, 'failed'));
      const payload = JSON.stringify(event);
      const secure = target.protocol === 'https:';
      return new Promise((resolve, reject) => {
        const req = (secure ? https : http).request(
          target,
          {
            method: 'POST',
            agent: secure ? agents['https:'] : agents['http:'],
            headers: {
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(payload),
              [SIGNATURE_HEADER]: signBody(secret, 'invoke', payload),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size <= MAX_REPLY_BYTES) chunks.push(chunk);
            });
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString('utf8');
              if (status < 200 || status >= 300)
                return reject(new InvocationError(`${fn} answered HTTP ${status}`, 'failed'));
              if (size > MAX_REPLY_BYTES)
                return reject(new InvocationError(`${fn} reply too large`, 'failed'));
              if (text.trim() === '') return resolve(undefined);
              try {
                resolve(JSON.parse(text) as unknown);
              } catch {
                reject(new InvocationError(`${fn} answered with a body that is not JSON`, 'failed'));
              }
            });
            res.on('error', (error) => reject(new InvocationError(`${fn}: ${error.message}`, 'failed')));
          },
        );
        req.setTimeout(timeoutMs, () =>
          req.destroy(new InvocationError(`${fn} timed out after ${timeoutMs} ms`, 'timeout')),
        );
        req.on('error', (error) =>
          reject(
            error instanceof InvocationError
              ? error
              : new InvocationError(`${fn}: ${error.message}`, 'failed'),
          ),
        );
        req.end(payload);
      });
    },
    async close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
