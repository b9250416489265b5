import http from 'http';
import {
  BodyTooLarge,
  clientAddress,
  hardenServer,
  parseTarget,
  readBody,
  refuseUpgrade,
  sendJson,
  sendText,
} from './http';
import type { Hub } from './hub';
import { functionWire } from './platform';
import type { GatewayLog } from './log';
import type { Metrics } from './metrics';
import { createSseEndpoint, EVENTS_PATH, SEND_PATH, type SseEndpoint } from './sse';
import { serveStatic } from './static-files';

/**
 * The listener that faces the internet: the WebSocket at /ws, server-sent events at /events (and sends at
 * /events/send), the page, /publish and /token (handed to the publish function), /config.json, /healthz, /readyz. Nothing here reaches the push listener or a store.
 */

export const WS_PATH = '/ws';

export interface PublicListenerOptions {
  hub: Hub;
  log: GatewayLog;
  metrics: Metrics;
  /** Whether the publish function is reachable (its URL configured, or a local module). */
  publish: boolean;
  /** What /config.json answers when the web folder has none. */
  webConfig?: () => Record<string, unknown>;
  /** The SSE endpoint, shared with the push listener (which takes sends forwarded by other nodes). */
  sse?: SseEndpoint;
}

/** Only these request headers reach the publish function: it needs no cookies, and no client-set forwarding. */
const FORWARDED_TO_PUBLISH = ['authorization', 'content-type'];

export function createPublicListener(options: PublicListenerOptions): http.Server {
  const { hub, log, metrics } = options;
  const { config } = hub;
  const wire = functionWire(config.platform);
  const webConfig =
    options.webConfig ??
    (() => ({
      wsUrl: WS_PATH,
      heartbeatSeconds: Math.max(5, Math.floor(config.limits.idleTimeoutMs / 3000)),
    }));

  const server = http.createServer((req, res) => {
    void route(req, res).catch((error: unknown) => {
      log.error('request_failed', { error: error instanceof Error ? error.message : String(error) });
      sendJson(res, 500, { error: 'internal', message: 'try again' });
    });
  });
  hardenServer(server);
  const sse = options.sse ?? createSseEndpoint({ hub, log, metrics });
  server.on('close', () => sse.close());

  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const target = parseTarget(req.url);
    if (!target) return refuseUpgrade(socket, 400, 'bad request target');
    if (target.pathname !== WS_PATH) return refuseUpgrade(socket, 404, 'not found');
    hub.handleUpgrade(req, socket, head, target.pathname);
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = parseTarget(req.url);
    if (!target) {
      metrics.inc('refusals_total', { reason: 'bad_target' });
      res.shouldKeepAlive = false;
      return sendText(res, 400, 'bad request target\n');
    }
    const { pathname } = target;
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const readable = method === 'GET' || head;
    if (pathname === '/healthz' && readable) return sendText(res, 200, 'ok\n', head);
    if (pathname === '/readyz' && readable)
      return hub.isDraining() ? sendText(res, 503, 'draining\n', head) : sendText(res, 200, 'ready\n', head);
    if (pathname === WS_PATH && readable) return sendText(res, 426, 'this is a WebSocket endpoint\n', head);
    if (pathname === EVENTS_PATH) {
      if (method !== 'GET') return sendText(res, 405, 'use GET\n');
      return sse.stream(req, res, target.query);
    }
    if (pathname === SEND_PATH) {
      if (method === 'OPTIONS') return sse.preflight(req, res);
      if (method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed', message: 'use POST' });
      return sse.send(req, res);
    }
    if (pathname === '/publish' || pathname === '/token') {
      if (!options.publish)
        return sendJson(res, 404, { error: 'not_found', message: 'publishing is not set up' });
      if (method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed', message: 'use POST' });
      if (!hub.allowRequest(clientAddress(req, config.trustProxy))) {
        metrics.inc('refusals_total', { reason: 'request_rate' });
        res.setHeader('Retry-After', '1');
        return sendJson(res, 429, { error: 'rate_limited', message: 'too many requests from this address' });
      }
      return publish(req, res, pathname);
    }
    if (!readable) return sendText(res, 405, 'method not allowed\n');
    if (config.webDir && (await serveStatic(config.webDir, pathname, res, head))) return;
    if (pathname === '/config.json') return sendJson(res, 200, webConfig(), head);
    return sendText(res, 404, 'not found\n', head);
  }

  async function publish(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, config.limits.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        metrics.inc('refusals_total', { reason: 'body_too_large' });
        sendJson(res, 413, { error: 'too_large', message: `body over ${config.limits.maxBodyBytes} bytes` });
        return void req.socket.destroy();
      }
      return void req.socket.destroy();
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_TO_PUBLISH) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const event = wire.httpEvent({ method: 'POST', path: pathname, headers, body: body.toString('utf8') });
    let reply;
    try {
      reply = wire.readHttpReply(await hub.invoke('publish', event, config.limits.functionTimeoutMs));
    } catch {
      return sendJson(res, 502, { error: 'unavailable', message: 'the publish function failed; try again' });
    }
    if (!reply)
      return sendJson(res, 502, { error: 'unavailable', message: 'the publish function answered badly' });
    res.writeHead(reply.statusCode, {
      'Content-Type': reply.contentType,
      'Content-Length': Buffer.byteLength(reply.body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(reply.body);
  }

  return server;
}
