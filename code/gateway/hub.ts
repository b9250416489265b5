import { isUtf8 } from 'buffer';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PushRequest } from '../tencent/gateway';
import type { GatewayConfig } from './config';
import { Connection, type ClientChannel, type CloseCause, type QueuedFrame } from './connection';
import { refuseUpgrade } from './http';
import type { FunctionName, Invoker } from './invoker';
import { createInvocations } from './invocations';
import { createCleanupQueue } from './cleanups';
import { functionWire } from './platform';
import { createAdmission, offeredProtocols, upgradeProblem, type RefusalAnswer } from './admission';
import { shortId, type GatewayLog } from './log';
import type { Metrics } from './metrics';
import { CHAT_SUBPROTOCOL, PLAIN_CLIENT_HELLO, renderPlain } from './plain-text';

/**
 * The heart of the gateway: the table of connections, the handshake (register decides), frames (transport, in
 * order per connection, within the limits), pushes into sockets, and cleanup on every close. Both listeners call
 * into it; it calls the functions only through the invoker, never the chat core.
 * (Over 300 lines because handshake, frames, pushes and closes share the connection table and the draining
 * state; what needs none of it lives beside it: admission, invocations, cleanups, connection.)
 */

export type GatewayEvent =
  | { kind: 'connect'; connectionId: string; protocol?: string }
  | { kind: 'refused'; connectionId?: string; status: number; reason: string }
  | { kind: 'frame'; connectionId: string; bytes: number; binary: boolean }
  | { kind: 'close'; connectionId: string; cause: CloseCause }
  | { kind: 'push'; connectionId: string; outcome: PushOutcome }
  /** A frame transport answered with for its sender (FunctionWire.readFrameReply), delivered like a push. */
  | { kind: 'reply'; connectionId: string; outcome: PushOutcome }
  | { kind: 'function-error'; connectionId?: string; fn: FunctionName; detail: string }
  | { kind: 'cleanup'; connectionId: string; ok: boolean };

export type PushOutcome = 'delivered' | 'closed' | 'gone' | 'slow-reader';

export type { Admission, RefusalAnswer } from './admission';
export { newConnectionId, nodeOf, upgradeProblem } from './admission';

/** Heartbeats go out a slice of the table every this many ms, so that each slice is small. */
const PING_TICK_MS = 100;

/** A socket error before `ws` owns the socket: its close (or the refusal being written) ends the handshake. */
function ignoreSocketError(): void {}

export interface HubOptions {
  config: GatewayConfig;
  invoker: Invoker;
  log: GatewayLog;
  metrics: Metrics;
  onEvent?: (event: GatewayEvent) => void;
}

export function createHub(options: HubOptions) {
  const { config, invoker, log, metrics } = options;
  const limits = config.limits;
  const wire = functionWire(config.platform);
  const emit = options.onEvent ?? (() => undefined);
  const table = new Map<string, Connection>();
  let draining = false;
  const idle: Array<() => void> = [];
  const emptied: Array<() => void> = [];

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false, // never offered, so secWebSocketExtensions never reaches register
    skipUTF8Validation: true, // checked per frame below, so bad UTF-8 gets an answer instead of a 1007 close
    handleProtocols: (_offered, req) => (req as IncomingMessage & { chosen?: string }).chosen ?? false,
  });

  const isSettled = () => invocations.idle() && cleanups.idle();
  /**
   * Checked on the next turn, not now: what an invocation's caller does with its result (queue a cleanup, say)
   * runs after the invocation itself ends, and belongs to the same unit of work.
   */
  function wakeIfSettled(): void {
    if (idle.length === 0) return;
    setImmediate(() => {
      if (isSettled()) idle.splice(0).forEach((wake) => wake());
    });
  }
  const invocations = createInvocations({
    invoker,
    maxInflight: limits.maxInflight,
    log,
    metrics,
    emit,
    onIdle: wakeIfSettled,
  });
  const invoke = invocations.invoke;
  const cleanups = createCleanupQueue({
    invocations,
    closeEvent: wire.closeEvent,
    concurrency: limits.cleanupConcurrency,
    timeoutMs: limits.functionTimeoutMs,
    log,
    metrics,
    emit,
    onIdle: wakeIfSettled,
  });
  const queueCleanup = cleanups.add;
  const admission = createAdmission({
    config,
    invoke,
    // Admitted by register too late (the client was gone or refused meanwhile): it never spoke.
    queueCleanup: (id) => queueCleanup(id, true),
    refused,
    live: () => table.size,
    isDraining: () => draining,
  });
  const admit = admission.admit;

  function refused(answer: RefusalAnswer, status: number, reason: string, connectionId?: string): void {
    metrics.inc('refusals_total', { reason: String(status) });
    log.warn('refused', { status, reason, conn: connectionId && shortId(connectionId) });
    emit({ kind: 'refused', connectionId, status, reason });
    answer(status, reason, status === 503 || status === 429 ? { 'Retry-After': '5' } : {});
  }

  function refuse(socket: Duplex, status: number, reason: string, connectionId?: string): void {
    refused((...args) => refuseUpgrade(socket, ...args), status, reason, connectionId);
  }

  /* ---------------- frames ---------------- */

  function close(conn: Connection, cause: CloseCause, code: number, reason: string): void {
    if (conn.closeCause !== undefined) return;
    conn.closeCause = cause;
    conn.dropQueue();
    if (cause === 'slow-reader' || cause === 'no-pong' || cause === 'error') conn.channel.terminate();
    else {
      conn.channel.close(code, reason);
      // A peer that ignores the close handshake is cut off.
      setTimeout(() => conn.channel.terminate(), 2000).unref();
    }
  }

  /** The connection, if it is in the table and the gateway is not closing it. */
  function live(connectionId: string): Connection | undefined {
    const conn = table.get(connectionId);
    return conn && conn.closeCause === undefined ? conn : undefined;
  }

  /** One frame to a live connection, unless the client is not reading what it was sent (then it is closed). */
  function sendFrame(conn: Connection, payload: string | Buffer, binary: boolean): PushOutcome {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (conn.channel.bufferedBytes() + size > limits.sendBufferBytes) {
      log.warn('slow_reader', { conn: shortId(conn.id), buffered: conn.channel.bufferedBytes() });
      close(conn, 'slow-reader', 1008, 'client reads too slowly');
      return 'slow-reader';
    }
    conn.channel.send(payload, binary);
    return 'delivered';
  }

  function pump(conn: Connection): void {
    if (conn.rateTimer) return;
    for (;;) {
      if (conn.closeCause !== undefined) return;
      const next = conn.take(Date.now());
      if (typeof next === 'number') {
        if (next > 0) {
          conn.rateTimer = setTimeout(() => {
            conn.rateTimer = undefined;
            pump(conn);
          }, next);
        }
        return;
      }
      // The record goes with a frame only when no other frame of the connection is in transport, one that could
      // change it (GATEWAY_MAX_INFLIGHT_PER_CONNECTION above 1); without it, transport reads the registry.
      if (conn.inflight > 0) conn.overlapped = true;
      const context = conn.overlapped ? undefined : conn.context;
      conn.inflight += 1;
      conn.spoke = true;
      const event = next.binary
        ? wire.frameEvent(conn.id, 'binary', next.data.toString('base64'), context)
        : wire.frameEvent(conn.id, 'text', next.data.toString('utf8'), context);
      invoke('transport', event, limits.functionTimeoutMs, conn.id).then(
        (answer) => {
          const { replies, context: changed } = wire.readFrameReply(answer);
          // Frames that overlapped may each have seen the record before the other changed it: it is forgotten
          // until they have all answered, and the next frame's transport reads it.
          if (conn.overlapped) conn.context = undefined;
          else if (changed !== undefined) conn.context = changed;
          // Before the connection's next frame goes to transport, so replies keep the order of the frames.
          for (const reply of replies) {
            const outcome = live(conn.id) === conn ? sendFrame(conn, reply, false) : 'gone';
            metrics.inc('replies_total', { outcome });
            emit({ kind: 'reply', connectionId: conn.id, outcome });
          }
          conn.inflight -= 1;
          if (conn.inflight === 0) conn.overlapped = false;
          next.settled?.('invoked');
          pump(conn);
        },
        () => {
          conn.inflight -= 1;
          next.settled?.('failed');
          // As Tencent's gateway did: a transport that fails or times out ends the client's connection.
          close(conn, 'transport-failed', 1011, 'transport function failed');
        },
      );
    }
  }

  function onFrame(
    conn: Connection,
    data: Buffer,
    binary: boolean,
    settled?: QueuedFrame['settled'],
  ): boolean {
    conn.idleTimer?.refresh();
    metrics.inc('frames_total');
    metrics.inc('frame_bytes_total', {}, data.length);
    emit({ kind: 'frame', connectionId: conn.id, bytes: data.length, binary });
    if (log.enabled('debug')) log.debug('frame', { conn: shortId(conn.id), bytes: data.length, binary });
    // A text frame that is not UTF-8 goes on as binary data, so the function can answer it.
    const asBinary = binary || !isUtf8(data);
    if (!conn.enqueue({ data, binary: asBinary, settled })) {
      metrics.inc('refusals_total', { reason: 'flood' });
      log.warn('flood', { conn: shortId(conn.id), queued: conn.queue.length });
      close(conn, 'flood', 1008, 'too many frames');
      return false;
    }
    pump(conn);
    return true;
  }

  /**
   * Puts an admitted client in the table, whatever its transport. The caller wires its transport's events to
   * the returned frame() and closed().
   */
  function attachChannel(
    id: string,
    ip: string,
    channel: ClientChannel,
    protocol: string | undefined,
    context?: string,
  ) {
    const conn = new Connection(id, ip, channel, limits, Date.now());
    conn.context = context;
    table.set(id, conn);
    conn.idleTimer = setTimeout(() => close(conn, 'idle', 1001, 'idle timeout'), limits.idleTimeoutMs);
    conn.idleTimer.unref();
    metrics.inc('connections_total');
    log.info('connect', { conn: shortId(id), ip, protocol, transport: channel.kind });
    emit({ kind: 'connect', connectionId: id, protocol });
    let ended = false;
    return {
      conn,
      frame: (data: Buffer, binary: boolean, settled?: QueuedFrame['settled']): boolean =>
        conn.closeCause === undefined && onFrame(conn, data, binary, settled),
      /** The transport reports the client gone (once; later calls are ignored). */
      closed(): void {
        if (ended) return;
        ended = true;
        clearTimeout(conn.idleTimer);
        clearTimeout(conn.rateTimer);
        table.delete(id);
        admission.release(ip);
        const cause = conn.closeCause ?? 'client';
        conn.dropQueue();
        metrics.inc('closes_total', { cause });
        log.info('close', { conn: shortId(id), cause });
        emit({ kind: 'close', connectionId: id, cause });
        // Not while frames that may change the record are still in transport: cleanup then reads it.
        queueCleanup(id, !conn.spoke, conn.inflight === 0 ? conn.context : undefined);
        if (table.size === 0) emptied.splice(0).forEach((wake) => wake());
      },
    };
  }

  function attach(
    id: string,
    ip: string,
    ws: WebSocket,
    protocol: string | undefined,
    context?: string,
  ): void {
    // A client that did not offer our protocol reads chat as text lines (plain-text.ts says why here).
    const plain = protocol !== CHAT_SUBPROTOCOL;
    const channel: ClientChannel = {
      kind: 'websocket',
      send: (data, binary) =>
        plain && !binary
          ? renderPlain(data.toString()).forEach((text) => ws.send(text))
          : ws.send(data, { binary }),
      bufferedBytes: () => ws.bufferedAmount,
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      ping: () => ws.ping(),
    };
    const { conn, frame, closed } = attachChannel(id, ip, channel, protocol, context);
    ws.on('message', (data, isBinary) => {
      frame(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer), isBinary);
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('error', (error) => {
      const tooBig = /max payload/i.test(error.message);
      if (conn.closeCause === undefined) conn.closeCause = tooBig ? 'too-large' : 'error';
    });
    ws.on('close', closed);
    // A protocol client sends its own join; a plain client is joined on its behalf, as its first frame.
    if (plain) frame(Buffer.from(PLAIN_CLIENT_HELLO), false);
  }

  /** A connection's heartbeat: dropped if it did not answer the last ping, else pinged again. */
  const beat = (conn: Connection) => {
    // SSE has no pong: its keep-alive comments (sse.ts) keep proxies open, and a dead peer fails the writes.
    if (conn.channel.kind !== 'websocket') return;
    if (!conn.alive) close(conn, 'no-pong', 1001, 'no pong');
    else {
      conn.alive = false;
      conn.channel.ping();
    }
  };
  // Every connection gets one beat per interval, a slice every PING_TICK_MS (at 10,000 connections and 30 s, 34 at
  // a time): pinging them all in one loop held the event loop, and every handshake and frame behind it.
  const slices = Math.max(1, Math.round(limits.pingIntervalMs / PING_TICK_MS));
  let round: Iterator<Connection> = table.values();
  let perSlice = 0;
  let slice = 0;
  const pinger = setInterval(() => {
    if (slice === 0) {
      round = table.values();
      perSlice = Math.ceil(table.size / slices);
    }
    slice = (slice + 1) % slices;
    for (let i = 0; i < perSlice; i += 1) {
      const next = round.next();
      if (next.done) return;
      beat(next.value);
    }
  }, limits.pingIntervalMs / slices);
  pinger.unref();

  return {
    config,
    /** Public listener: an upgrade request on the WebSocket path. Never throws. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
      // A function of no scope: a closure made here would keep the upgrade request alive as long as the socket.
      socket.on('error', ignoreSocketError);
      const problem = upgradeProblem(req);
      if (problem) return refuse(socket, 400, problem);
      admit({
        req,
        socket,
        path,
        protocols: offeredProtocols(req),
        originOptional: false,
        answer: (...args) => refuseUpgrade(socket, ...args),
        accept: (id, ip, protocol, context) => {
          (req as IncomingMessage & { chosen?: string }).chosen = protocol;
          wss.handleUpgrade(req, socket, head, (ws) => attach(id, ip, ws, protocol, context));
        },
      });
    },

    /** Another transport's handshake (SSE): the same caps and register call as a WebSocket's. */
    admit,
    attachChannel,
    /**
     * A frame for a connection from outside its channel (an SSE client's POST): the same queue, rate and
     * in-flight path as a WebSocket frame. 'flood' means the connection was closed for it.
     */
    frame(
      connectionId: string,
      data: Buffer,
      binary: boolean,
      settled?: QueuedFrame['settled'],
    ): 'queued' | 'gone' | 'flood' {
      const conn = live(connectionId);
      if (!conn) return 'gone';
      return onFrame(conn, data, binary, settled) ? 'queued' : 'flood';
    },
    /** The transport of a live connection of this node, or undefined. */
    kindOf: (connectionId: string): ClientChannel['kind'] | undefined => live(connectionId)?.channel.kind,

    /** Public listener: may this address make one more request that costs an invocation? */
    allowRequest(ip: string): boolean {
      return admission.allowRequest(ip);
    },
    /** The client address of a live connection of this node (the @connections GET answer), or undefined. */
    addressOf(connectionId: string): string | undefined {
      return live(connectionId)?.ip;
    },
    /** Connections counted against an address (live and in handshake); for tests and metrics. */
    connectionsFrom(ip: string): number {
      return admission.connectionsFrom(ip);
    },

    /** Push listener: a verified push for a connection of this node. */
    deliver(push: PushRequest): PushOutcome {
      const conn = live(push.connectionId);
      if (!conn) return record(push.connectionId, 'gone');
      if (push.kind === 'close') {
        close(conn, 'push-closing', 1000, 'closed by server');
        return record(push.connectionId, 'closed');
      }
      const binary = push.frameType === 'binary';
      return record(
        push.connectionId,
        sendFrame(conn, binary ? Buffer.from(push.data, 'base64') : push.data, binary),
      );
    },

    invoke,
    connectionIds: (): string[] => [...table.keys()],
    connectionCount: (): number => table.size,
    isDraining: (): boolean => draining,
    gauges: () => ({
      connections: table.size,
      inflight_invocations: invocations.inflight(),
      queued_frames: [...table.values()].reduce((n, c) => n + c.queue.length, 0),
      draining: draining ? 1 : 0,
    }),
    /** Drops a connection as a network failure would (tests, load drills): cleanup still runs. */
    drop(connectionId: string): boolean {
      const conn = table.get(connectionId);
      if (!conn) return false;
      close(conn, 'error', 1006, 'dropped');
      return true;
    },
    /** Resolves when no invocation runs and no cleanup waits: the settle point tests wait for. */
    settled(): Promise<void> {
      if (isSettled()) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    /** Stop admitting; tell every client 1001; let running invocations and cleanups finish (bounded). */
    async drain(): Promise<void> {
      draining = true;
      clearInterval(pinger);
      for (const conn of table.values()) close(conn, 'drain', 1001, 'server shutting down');
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, limits.drainTimeoutMs).unref());
      const closed =
        table.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => emptied.push(resolve));
      await Promise.race([closed.then(() => this.settled()).then(() => invocations.finished()), deadline]);
    },
    /** Immediate stop (tests, a crash drill): no cleanup calls; the sweep removes what is left. */
    kill(): void {
      cleanups.stop();
      draining = true;
      clearInterval(pinger);
      for (const conn of table.values()) {
        conn.closeCause = 'error';
        conn.channel.terminate();
      }
    },
  };

  function record(connectionId: string, outcome: PushOutcome): PushOutcome {
    metrics.inc('pushes_total', { outcome });
    if (log.enabled('debug')) log.debug('push', { conn: shortId(connectionId), outcome });
    emit({ kind: 'push', connectionId, outcome });
    return outcome;
  }
}

export type Hub = ReturnType<typeof createHub>;
