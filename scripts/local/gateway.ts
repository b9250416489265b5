import { randomBytes, randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  buildCloseEvent,
  buildConnectEvent,
  buildFrameEvent,
  GatewayEventError,
  parsePushBody,
  readRegisterReply,
} from '../../code/tencent/gateway';

/**
 * An emulator of Tencent API Gateway's WEBSOCKET endpoint (shared/docs/tencent-websocket-protocol.md):
 *   - handshake → register function; only errNo 0 completes the upgrade, otherwise an HTTP error;
 *   - each client frame → transport function (binary as base64); if it throws or times out, the gateway closes
 *     that client (it "sends FIN");
 *   - a client-initiated close → cleanup function; closes by the server side (idle timeout, push "closing",
 *     transport failure) do not call cleanup, because the real gateway does not promise that either;
 *   - the push URL: `data send` and `closing` for any live connection; unknown connections get HTTP 200 with
 *     a non-zero errNo, which the push client reads as gone.
 * Faults can be injected into the push endpoint for tests: latency, error statuses, hung or dropped requests.
 */

export type ScfFunction = (event: unknown, context: unknown) => Promise<unknown>;

export interface GatewayFunctions {
  register: ScfFunction;
  transport: ScfFunction;
  cleanup: ScfFunction;
}

export interface PushFault {
  /** status: answer with it; hang: never answer; drop: destroy the socket; gone: answer as for an unknown ID. */
  mode: 'status' | 'hang' | 'drop' | 'gone';
  status?: number;
  /** Only pushes to this connection. */
  connectionId?: string;
  /** How many pushes it applies to; unlimited when omitted. */
  times?: number;
}

export interface GatewayEvent {
  kind: 'connect' | 'refused' | 'frame' | 'close' | 'server-close' | 'push' | 'push-fault' | 'function-error';
  connectionId: string;
  detail?: string;
}

export interface GatewayOptions {
  functions: GatewayFunctions;
  /** Idle time after which the gateway drops a connection without calling cleanup. */
  idleTimeoutMs: number;
  /** SCF function timeout: an invocation that takes longer counts as failed. */
  functionTimeoutMs: number;
  onEvent?: (event: GatewayEvent) => void;
}

export interface PushStats {
  requests: number;
  delivered: number;
  /** Of `delivered`, how many went to virtual connections. */
  virtual: number;
  unknown: number;
  closed: number;
}

export interface Gateway {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  handlePush(req: IncomingMessage, res: ServerResponse): void;
  /** IDs of the connections the gateway holds open. */
  connectionIds(): string[];
  /** Drops a connection from the server side, as a network failure or idle timeout would: no cleanup call. */
  drop(connectionId: string): boolean;
  /**
   * Connections without a socket: pushes to them are answered like those to live ones and counted, so that
   * benchmarks can fan out to thousands of recipients without holding thousands of sockets.
   */
  addVirtualConnections(ids: string[]): void;
  setPushLatency(ms: number): void;
  injectPushFault(fault: PushFault): void;
  clearPushFaults(): void;
  pushStats(): PushStats;
  resetPushStats(): void;
  close(): Promise<void>;
}

interface Live {
  socket: WebSocket;
  closedByServer: boolean;
  idleTimer?: NodeJS.Timeout;
}

const MAX_PUSH_BODY = 1024 * 1024;

/** 32 characters of base64, the length the doc gives for secConnectionID. */
export function newConnectionId(): string {
  return randomBytes(24).toString('base64');
}

function invoke(fn: ScfFunction, event: unknown, timeoutMs: number): Promise<unknown> {
  // Each invocation gets its own copy of the event, serialised as SCF would, so no state leaks between calls.
  const copy: unknown = JSON.parse(JSON.stringify(event));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`function timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([fn(copy, { callbackWaitsForEmptyEventLoop: true }), timeout])
    .then((result) => (result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown)))
    .finally(() => clearTimeout(timer));
}

export function createGateway(options: GatewayOptions): Gateway {
  const live = new Map<string, Live>();
  /** Invocations still running, so that close() can let them finish before the stores go away. */
  const inflight = new Set<Promise<unknown>>();
  const run = (fn: ScfFunction, event: unknown): Promise<unknown> => {
    const call = invoke(fn, event, options.functionTimeoutMs);
    inflight.add(call);
    void call.then(
      () => inflight.delete(call),
      () => inflight.delete(call),
    );
    return call;
  };
  const wss = new WebSocketServer({
    noServer: true,
    // Answer with the one sub-protocol the register function chose (stored on the request during upgrade).
    handleProtocols: (_offered, req) =>
      (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol ?? false,
  });
  const emit = options.onEvent ?? (() => undefined);
  let faults: Array<PushFault & { used: number }> = [];
  let latencyMs = 0;
  const stats: PushStats = { requests: 0, delivered: 0, virtual: 0, unknown: 0, closed: 0 };
  const virtual = new Set<string>();

  function armIdleTimer(connectionId: string, entry: Live): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      emit({ kind: 'server-close', connectionId, detail: 'idle timeout' });
      closeFromServer(entry, 1001, 'idle timeout');
    }, options.idleTimeoutMs);
    entry.idleTimer.unref();
  }

  function closeFromServer(entry: Live, code: number, reason: string): void {
    entry.closedByServer = true;
    entry.socket.close(code, reason);
    // A peer that ignores the close handshake is cut off, as a FIN from the gateway would.
    setTimeout(() => entry.socket.terminate(), 1000).unref();
  }

  function refuse(socket: Duplex, status: number, reason: string): void {
    const body = JSON.stringify({ errMsg: reason });
    socket.end(
      `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.destroy();
  }

  function onFrame(connectionId: string, entry: Live, data: RawData, isBinary: boolean): void {
    armIdleTimer(connectionId, entry);
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const event = isBinary
      ? buildFrameEvent(connectionId, 'binary', buffer.toString('base64'))
      : buildFrameEvent(connectionId, 'text', buffer.toString('utf8'));
    emit({ kind: 'frame', connectionId, detail: `${buffer.length} bytes${isBinary ? ' binary' : ''}` });
    // Concurrent, as in the cloud: frames of one client may be handled by different instances at once.
    run(options.functions.transport, event).catch((error: unknown) => {
      emit({ kind: 'function-error', connectionId, detail: `transport: ${String(error)}` });
      closeFromServer(entry, 1011, 'transport function failed');
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      const connectionId = newConnectionId();
      const offered = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const event = buildConnectEvent({
        connectionId,
        requestId: randomUUID(),
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        path: new URL(req.url ?? '/', 'http://local').pathname,
        protocols: offered,
      });
      socket.on('error', () => undefined);
      run(options.functions.register, event)
        .then((reply) => {
          const verdict = readRegisterReply(reply);
          if (!verdict.accepted) {
            emit({ kind: 'refused', connectionId, detail: verdict.errMsg });
            return refuse(socket, 403, verdict.errMsg);
          }
          (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = verdict.protocol;
          wss.handleUpgrade(req, socket, head, (ws) => {
            const entry: Live = { socket: ws, closedByServer: false };
            live.set(connectionId, entry);
            armIdleTimer(connectionId, entry);
            emit({ kind: 'connect', connectionId, detail: verdict.protocol });
            ws.on('message', (data, isBinary) => onFrame(connectionId, entry, data, isBinary));
            ws.on('close', () => {
              if (entry.idleTimer) clearTimeout(entry.idleTimer);
              live.delete(connectionId);
              if (entry.closedByServer) return;
              emit({ kind: 'close', connectionId });
              run(options.functions.cleanup, buildCloseEvent(connectionId)).catch((error: unknown) =>
                emit({ kind: 'function-error', connectionId, detail: `cleanup: ${String(error)}` }),
              );
            });
            ws.on('error', () => undefined);
          });
        })
        .catch((error: unknown) => {
          emit({ kind: 'function-error', connectionId, detail: `register: ${String(error)}` });
          refuse(socket, 502, 'register function failed');
        });
    },

    handlePush(req, res) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_PUSH_BODY) chunks.push(chunk);
      });
      req.on('end', () => {
        void (async () => {
          const answer = (status: number, errNo: number, errMsg: string) => {
            const body = JSON.stringify({ errNo, errMsg });
            res.writeHead(status, {
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(body),
            });
            res.end(body);
          };
          stats.requests += 1;
          if (req.method !== 'POST') return answer(405, 405, 'use POST');
          if (size > MAX_PUSH_BODY) return answer(413, 413, 'push body too large');
          let push;
          try {
            push = parsePushBody(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            const message = error instanceof GatewayEventError ? error.message : 'body is not JSON';
            return answer(400, 400, message);
          }
          if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
          const fault = faults.find(
            (f) =>
              (f.connectionId === undefined || f.connectionId === push.connectionId) &&
              (f.times === undefined || f.used < f.times),
          );
          if (fault) {
            fault.used += 1;
            emit({ kind: 'push-fault', connectionId: push.connectionId, detail: fault.mode });
            if (fault.mode === 'hang') return; // never answered; the client's timeout must end it
            if (fault.mode === 'drop') return req.socket.destroy();
            if (fault.mode === 'status')
              return answer(fault.status ?? 500, fault.status ?? 500, 'injected fault');
          }
          if (fault?.mode !== 'gone' && virtual.has(push.connectionId)) {
            if (push.kind === 'close') virtual.delete(push.connectionId);
            stats.delivered += 1;
            stats.virtual += 1;
            return answer(200, 0, 'ok');
          }
          const entry = fault?.mode === 'gone' ? undefined : live.get(push.connectionId);
          if (!entry || entry.socket.readyState !== entry.socket.OPEN) {
            stats.unknown += 1;
            return answer(200, 1, 'connection not found');
          }
          if (push.kind === 'close') {
            stats.closed += 1;
            emit({ kind: 'server-close', connectionId: push.connectionId, detail: 'push closing' });
            closeFromServer(entry, 1000, 'closed by server');
            return answer(200, 0, 'ok');
          }
          entry.socket.send(push.frameType === 'binary' ? Buffer.from(push.data, 'base64') : push.data);
          stats.delivered += 1;
          emit({ kind: 'push', connectionId: push.connectionId });
          return answer(200, 0, 'ok');
        })();
      });
    },

    connectionIds: () => [...live.keys()],

    drop(connectionId) {
      const entry = live.get(connectionId);
      if (!entry) return false;
      entry.closedByServer = true;
      entry.socket.terminate();
      return true;
    },

    addVirtualConnections(ids) {
      for (const id of ids) virtual.add(id);
    },
    setPushLatency(ms) {
      latencyMs = ms;
    },
    injectPushFault(fault) {
      faults.push({ ...fault, used: 0 });
    },
    clearPushFaults() {
      faults = [];
    },
    pushStats: () => ({ ...stats }),
    resetPushStats() {
      Object.assign(stats, { requests: 0, delivered: 0, virtual: 0, unknown: 0, closed: 0 });
    },

    async close() {
      for (const entry of live.values()) {
        entry.closedByServer = true;
        if (entry.idleTimer) clearTimeout(entry.idleTimer);
        entry.socket.terminate();
      }
      live.clear();
      await Promise.allSettled([...inflight]);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
