import type { IncomingMessage, ServerResponse } from 'http';
import type { Duplex } from 'stream';

/**
 * Small HTTP helpers for both listeners. Everything here assumes the request is hostile: targets are parsed
 * without throwing, bodies are capped before a byte is buffered, and raw-socket answers are complete responses.
 */

/** Marks a request one node passed to another (a push, or an SSE send): it is never passed on again. */
export const FORWARDED_HEADER = 'x-wschat-forwarded';

export interface Target {
  pathname: string;
  query: URLSearchParams;
}

/**
 * Origin-form targets only (`/path?query`): absolute-form, authority-form and `//host` targets are refused, and
 * a path whose percent-encoding does not decode is refused too, so no later decode can throw.
 */
export function parseTarget(raw: string | undefined): Target | undefined {
  if (raw === undefined || raw.length === 0 || raw.length > 8192 || raw[0] !== '/' || raw.startsWith('//'))
    return undefined;
  // URL() silently drops control characters and tabs; a target that holds any is not one a client meant.
  for (let i = 0; i < raw.length; i += 1) {
    const code = raw.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return undefined;
  }
  try {
    const url = new URL(raw, 'http://gateway.invalid');
    if (url.host !== 'gateway.invalid') return undefined;
    decodeURIComponent(url.pathname);
    return { pathname: url.pathname, query: url.searchParams };
  } catch {
    return undefined;
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A complete answer: length known, never cached or sniffed. A response already started is just ended. */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
  head = false,
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(head ? undefined : body);
}

export function sendJson(res: ServerResponse, status: number, payload: unknown, head = false): void {
  sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify(payload), {}, head);
}

export function sendText(res: ServerResponse, status: number, text: string, head = false): void {
  sendBody(res, status, 'text/plain; charset=utf-8', text, {}, head);
}

/** A complete HTTP/1.1 answer on a raw socket (an upgrade we refuse), then the socket is closed. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ errMsg: message });
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...extra,
  };
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      `\r\n${body}`,
  );
  // A peer that never reads must not hold the socket: end() flushes, destroy() follows shortly.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export { BodyTooLarge, readBody } from '../util/read-body';

/** The caller's address: the socket's, or the last X-Forwarded-For hop when a trusted proxy sets it. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last && /^[0-9a-fA-F:.]{2,45}$/.test(last)) return last;
  }
  return (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}

/** Node's defaults allow a slow client to hold a request open for minutes; these close it sooner. */
export function hardenServer(server: import('http').Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  server.maxRequestsPerSocket = 1000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable && !socket.destroyed)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
}
