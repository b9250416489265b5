import type http from 'http';
import { connectionsError, parseConnectionsCall, type ConnectionsCall } from '../aws/events';
import { BodyTooLarge, readBody } from './http';
import type { Hub, PushOutcome } from './hub';
import type { GatewayLog } from './log';
import type { Metrics } from './metrics';
import type { PushHook } from './push-listener';

/**
 * The AWS shape of the push listener (GatewayConfig.platform 'aws'): API Gateway's management API,
 * `POST /@connections/{id}` (the body is the message), `DELETE` (close), `GET` (is it there?), answered as AWS
 * does: 200 on success, 410 GoneException for an unknown or closed connection, 413 PayloadTooLargeException.
 * AWS authorizes these calls with SigV4 and IAM; this listener plays that API for local runs only (`npm run
 * start:aws`), bound to loopback, and checks no signature, like serverless-offline. The production gateway never
 * runs in this mode: on AWS, API Gateway itself holds the sockets.
 */

export interface ConnectionsApiOptions {
  hub: Hub;
  log: GatewayLog;
  metrics: Metrics;
  hook?: PushHook;
}

type Send = (res: http.ServerResponse, status: number, error?: Parameters<typeof connectionsError>) => void;

const send: Send = (res, status, error) => {
  if (!error) return void res.writeHead(status, { 'Content-Length': 0 }).end();
  const { headers, body } = connectionsError(...error);
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) }).end(body);
};

const GONE: Parameters<typeof connectionsError> = ['GoneException', 'connection not found'];

/** The hook's Tencent-style answers (scripts/local/dev-push-hook.ts), in AWS's words. */
function hookAnswer(res: http.ServerResponse, status: number, message: string): void {
  if (status >= 200 && status < 300) return send(res, 200);
  if (status === 410) return send(res, 410, GONE);
  if (status === 429) return send(res, 429, ['LimitExceededException', message]);
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message }));
}

/** Answers the request when it is a management API call; false when it is not one (the caller answers 404). */
export function handleConnectionsCall(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
  options: ConnectionsApiOptions,
): boolean {
  const call = parseConnectionsCall(req.method ?? '', pathname);
  if (!call) return false;
  void answer(req, res, call, options);
  return true;
}

async function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  call: ConnectionsCall,
  { hub, log, metrics, hook }: ConnectionsApiOptions,
): Promise<void> {
  const { connectionId } = call;
  if (call.kind === 'info') {
    const ip = hub.addressOf(connectionId);
    if (ip === undefined) return send(res, 410, GONE);
    const body = JSON.stringify({ Identity: { SourceIp: ip } });
    return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  }
  let data = '';
  if (call.kind === 'send') {
    try {
      data = (await readBody(req, hub.config.limits.maxPushBodyBytes)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        metrics.inc('pushes_total', { outcome: 'refused_413' });
        log.warn('push_refused', { status: 413, reason: 'push body too large' });
        send(res, 413, ['PayloadTooLargeException', 'message too large']);
      }
      return void req.socket.destroy();
    }
  }
  const push =
    call.kind === 'send'
      ? { kind: 'send' as const, connectionId, frameType: 'text' as const, data }
      : { kind: 'close' as const, connectionId };
  if (hook) {
    const verdict = await hook(push);
    if (verdict && 'hang' in verdict) return;
    if (verdict && 'drop' in verdict) return void req.socket.destroy();
    if (verdict) return hookAnswer(res, verdict.answer.status, verdict.answer.errMsg);
  }
  const outcome: PushOutcome = hub.deliver(push);
  if (outcome === 'gone' || outcome === 'slow-reader') return send(res, 410, GONE);
  send(res, call.kind === 'close' ? 204 : 200);
}
