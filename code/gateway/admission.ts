import { randomBytes, randomUUID } from 'crypto';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import type { GatewayConfig } from './config';
import { clientAddress } from './http';
import type { FunctionName } from './invoker';
import { functionWire } from './platform';
import { RateByKey } from './rate';

/**
 * Who gets in: the handshake checks every transport shares (shutdown, origin, connection caps, per-address
 * rate), then register decides. It also owns the per-address count, which every close gives back.
 */

/** Writes a refusal in the transport's own form (an HTTP answer on a raw socket, or on a response). */
export type RefusalAnswer = (status: number, reason: string, headers: Record<string, string>) => void;

export interface Admission {
  req: IncomingMessage;
  socket: Duplex;
  /** The path register sees in requestContext. */
  path: string;
  /** The connect options, as Sec-WebSocket-Protocol entries. */
  protocols: string[];
  /** Browsers send no Origin on a same-origin EventSource; a WebSocket handshake always has one. */
  originOptional: boolean;
  answer: RefusalAnswer;
  /** `context`: what register answered for the gateway to hand back with each frame (FunctionWire). */
  accept(id: string, ip: string, protocol: string | undefined, context: string | undefined): void;
}

/** `<node>+<24 base64 characters>`: the prefix routes pushes between nodes; all of it passes Tencent's format. */
export function newConnectionId(nodeId: string): string {
  return `${nodeId}+${randomBytes(18).toString('base64')}`;
}

export function nodeOf(connectionId: string): string | undefined {
  const plus = connectionId.indexOf('+');
  return plus > 0 ? connectionId.slice(0, plus) : undefined;
}

const WS_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** The reason a request cannot be a WebSocket handshake, or undefined when it can. */
export function upgradeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'a WebSocket handshake is a GET';
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'Upgrade must be websocket';
  if (!WS_KEY.test(req.headers['sec-websocket-key'] ?? ''))
    return 'Sec-WebSocket-Key is missing or malformed';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  return undefined;
}

export function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .slice(0, 16);
}

export interface AdmissionOptions {
  config: GatewayConfig;
  invoke(fn: FunctionName, event: unknown, timeoutMs: number, connectionId?: string): Promise<unknown>;
  queueCleanup(connectionId: string): void;
  refused(answer: RefusalAnswer, status: number, reason: string, connectionId?: string): void;
  /** Connections held now. */
  live(): number;
  isDraining(): boolean;
}

export function createAdmission(options: AdmissionOptions) {
  const { config } = options;
  const wire = functionWire(config.platform);
  const perIp = new Map<string, number>();
  const requestRate = new RateByKey(config.limits.requestsPerSecondPerIp, config.limits.requestBurstPerIp);
  let pending = 0;
  const countIp = (ip: string, by: number) => {
    const next = (perIp.get(ip) ?? 0) + by;
    if (next <= 0) perIp.delete(ip);
    else perIp.set(ip, next);
  };

  /**
   * Admission, for any transport: shutdown, origin and connection caps first, then register decides. `answer`
   * writes a refusal in the transport's form; `accept` completes the transport's handshake and attaches.
   */
  function admit(a: Admission): void {
    const { req, socket } = a;
    if (options.isDraining()) return options.refused(a.answer, 503, 'gateway is shutting down');
    const origin = req.headers.origin;
    if (config.allowedOrigins && !(origin === undefined && a.originOptional)) {
      if (origin === undefined || !config.allowedOrigins.includes(origin))
        return options.refused(a.answer, 403, 'origin not allowed');
    }
    if (options.live() + pending >= config.limits.maxConnections)
      return options.refused(a.answer, 503, 'too many connections');
    const ip = clientAddress(req, config.trustProxy);
    if ((perIp.get(ip) ?? 0) >= config.limits.maxConnectionsPerIp)
      return options.refused(a.answer, 429, 'too many connections from this address');
    if (!requestRate.take(ip)) return options.refused(a.answer, 429, 'too many handshakes from this address');
    const id = newConnectionId(config.nodeId);
    pending += 1;
    countIp(ip, 1);
    // No listener on the socket here: one would hold this scope (the request, its headers, the handshake timer)
    // for the connection's whole life. Whether the client left while register ran is read off the socket.
    let settled = false;
    const settle = () => {
      const first = !settled;
      settled = true;
      if (first) pending -= 1;
      return first;
    };
    const timer = setTimeout(() => {
      if (!settle()) return;
      countIp(ip, -1);
      options.refused(a.answer, 504, 'register did not answer in time', id);
    }, config.limits.handshakeTimeoutMs);
    const event = wire.connectEvent({
      connectionId: id,
      requestId: randomUUID(),
      sourceIp: ip,
      path: a.path,
      protocols: a.protocols,
    });
    options.invoke('register', event, config.limits.handshakeTimeoutMs, id).then(
      (reply) => {
        clearTimeout(timer);
        const verdict = wire.readConnectReply(reply);
        if (!settle()) {
          // We answered 504 already (and released the address); undo what a late register stored.
          if (verdict.accepted) options.queueCleanup(id);
          return;
        }
        if (socket.destroyed || !socket.readable || !socket.writable) {
          // The client left while register ran: release its address and socket, undo what register stored.
          socket.destroy();
          countIp(ip, -1);
          if (verdict.accepted) options.queueCleanup(id);
          return;
        }
        if (!verdict.accepted) {
          countIp(ip, -1);
          return options.refused(a.answer, verdict.status ?? 403, verdict.errMsg || 'refused', id);
        }
        a.accept(id, ip, verdict.protocol, verdict.context);
      },
      () => {
        clearTimeout(timer);
        if (!settle()) return;
        countIp(ip, -1);
        options.refused(a.answer, 502, 'register function failed', id);
      },
    );
  }

  return {
    admit,
    /** A connection from this address ended. */
    release: (ip: string): void => countIp(ip, -1),
    allowRequest: (ip: string): boolean => requestRate.take(ip),
    connectionsFrom: (ip: string): number => perIp.get(ip) ?? 0,
  };
}
