import http from 'http';
import { GatewayEventError, parsePushBody, type PushRequest } from '../tencent/gateway';
import { SIGNATURE_HEADER, verifyBody } from '../util/signature';
import {
  BodyTooLarge,
  FORWARDED_HEADER,
  hardenServer,
  parseTarget,
  readBody,
  sendJson,
  sendText,
} from './http';
import { handleConnectionsCall } from './connections-api';
import { nodeOf, type Hub, type PushOutcome } from './hub';
import type { GatewayLog } from './log';
import type { Metrics } from './metrics';
import { postToPeer } from './peer';
import { SEND_PATH, type SseEndpoint } from './sse';

/**
 * The private listener: the push URL the functions call (`POST /push`, Tencent's `data send` / `closing` bodies,
 * signed with GATEWAY_SECRET; in AWS shape `/@connections/{id}` instead, connections-api.ts), plus /metrics and
 * /healthz for the operator. It must never be reachable from the
 * internet: bind it to a private address (GATEWAY_PUSH_HOST) and allow only the functions' subnet to it.
 *
 * Answers: 200 `{errNo:0}` delivered; 410 `{errNo:410}` no such connection (gone, or closed as a slow reader);
 * 400 malformed; 401 unsigned or wrongly signed; 413 too large. A push for a connection of another node is
 * forwarded there unchanged (its signature still holds) and that node's answer is passed back.
 */

export { FORWARDED_HEADER } from './http';

/** For `npm start` only: lets the dev stack answer for virtual connections or inject faults. */
export type PushHook = (
  push: PushRequest,
) => Promise<
  undefined | { answer: { status: number; errNo: number; errMsg: string } } | { hang: true } | { drop: true }
>;

export interface PushListenerOptions {
  hub: Hub;
  log: GatewayLog;
  metrics: Metrics;
  hook?: PushHook;
  /** Takes SSE sends another node forwarded here (the stream is on this node). */
  sse?: SseEndpoint;
}

const ANSWERS: Record<PushOutcome, [number, number, string]> = {
  delivered: [200, 0, 'ok'],
  closed: [200, 0, 'ok'],
  gone: [410, 410, 'connection not found'],
  'slow-reader': [410, 410, 'connection closed: it read too slowly'],
};

/** The push, signature and all, to the node that holds the connection. */
function forward(peer: string, body: Buffer, signature: string, agent: http.Agent) {
  return postToPeer(
    `${peer}/push`,
    body,
    { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signature },
    {
      agent,
      timeoutMs: 5000,
      maxAnswerChars: 4096,
      failures: {
        down: '{"errNo":410,"errMsg":"node is down"}',
        unreachable: '{"errNo":502,"errMsg":"peer unreachable"}',
      },
    },
  );
}

export function createPushListener(options: PushListenerOptions): http.Server {
  const { hub, log, metrics } = options;
  const { config } = hub;
  const limits = config.limits;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const server = http.createServer((req, res) => {
    const target = parseTarget(req.url);
    const head = req.method === 'HEAD';
    if (!target) return sendJson(res, 400, { errNo: 400, errMsg: 'bad request target' });
    if (target.pathname === '/healthz' && (req.method === 'GET' || head))
      return sendText(res, 200, 'ok\n', head);
    if (target.pathname === '/metrics' && (req.method === 'GET' || head)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(head ? undefined : metrics.render(hub.gauges()));
    }
    if (
      target.pathname === SEND_PATH &&
      req.method === 'POST' &&
      options.sse &&
      req.headers[FORWARDED_HEADER] !== undefined
    )
      return void options.sse.send(req, res);
    if (config.platform === 'aws') {
      if (handleConnectionsCall(req, res, target.pathname, options)) return;
      return sendJson(res, 404, { message: 'not found' });
    }
    if (target.pathname !== '/push') return sendJson(res, 404, { errNo: 404, errMsg: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { errNo: 405, errMsg: 'use POST' });
    void handlePush(req, res);
  });
  hardenServer(server);
  server.on('close', () => agent.destroy());

  const refuse = (res: http.ServerResponse, status: number, errMsg: string) => {
    metrics.inc('pushes_total', { outcome: `refused_${status}` });
    log.warn('push_refused', { status, reason: errMsg });
    sendJson(res, status, { errNo: status, errMsg });
  };

  async function handlePush(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, limits.maxPushBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        refuse(res, 413, 'push body too large');
        return void req.socket.destroy();
      }
      return void req.socket.destroy();
    }
    const signature = req.headers[SIGNATURE_HEADER];
    const header = typeof signature === 'string' ? signature : undefined;
    const check = verifyBody(config.secret, 'push', body, header);
    if (!check.ok) return refuse(res, 401, `push signature ${check.reason}`);
    let push: PushRequest;
    try {
      push = parsePushBody(JSON.parse(body.toString('utf8')));
    } catch (error) {
      return refuse(res, 400, error instanceof GatewayEventError ? error.message : 'body is not JSON');
    }
    if (options.hook) {
      const verdict = await options.hook(push);
      if (verdict && 'hang' in verdict) return;
      if (verdict && 'drop' in verdict) return void req.socket.destroy();
      if (verdict)
        return sendJson(res, verdict.answer.status, {
          errNo: verdict.answer.errNo,
          errMsg: verdict.answer.errMsg,
        });
    }
    const owner = nodeOf(push.connectionId);
    if (owner !== undefined && owner !== config.nodeId) {
      const peer = config.peers.get(owner);
      if (peer === undefined || req.headers[FORWARDED_HEADER] !== undefined) {
        metrics.inc('pushes_total', { outcome: 'gone' });
        return sendJson(res, 410, { errNo: 410, errMsg: 'connection not found' });
      }
      const answer = await forward(peer, body, header!, agent);
      metrics.inc('pushes_total', { outcome: `forwarded_${answer.status}` });
      res.writeHead(answer.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(answer.body),
      });
      return void res.end(answer.body);
    }
    const [status, errNo, errMsg] = ANSWERS[hub.deliver(push)];
    sendJson(res, status, { errNo, errMsg });
  }

  return server;
}
