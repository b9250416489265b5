import type { ClientCommand, ServerEnvelope } from '../code/chat/protocol';
import { backoffDelay } from './util';

/**
 * One WebSocket at a time, kept alive: reconnects with jittered exponential backoff, sends a heartbeat so the
 * gateway's idle timeout never fires, and gives up on a socket that stops answering instead of waiting for the
 * browser to notice (which can take minutes after a silent network change).
 */

export interface CloseInfo {
  /** Whether the socket had opened; a refused handshake never does, and the browser hides why. */
  opened: boolean;
  code: number;
  /** Consecutive failed attempts so far, including this one. */
  failures: number;
  /** When the next attempt starts, ms from now. */
  delayMs: number;
}

export interface ConnectionHandlers {
  /** Sec-WebSocket-Protocol entries for the next attempt: nick or room may have changed since the last. */
  protocols(): string[];
  connecting(): void;
  open(): void;
  envelope(envelope: ServerEnvelope): void;
  closed(info: CloseInfo): void;
}

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_PONG_WAIT_MS = 20_000;

interface Attempt {
  socket: WebSocket;
  opened: boolean;
  connectTimer?: number;
}

function isEnvelope(value: unknown): value is ServerEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record.v === 1 && typeof record.type === 'string';
}

export class Connection {
  private current?: Attempt;
  private failures = 0;
  private retryTimer?: number;
  private heartbeatTimer?: number;
  private pongTimer?: number;
  private stopped = true;

  constructor(
    private readonly url: string,
    private readonly heartbeatMs: number,
    private readonly handlers: ConnectionHandlers,
  ) {
    window.addEventListener('online', () => this.retryNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      // A tab coming back from the background (or a laptop from sleep) may hold a dead socket: check it now.
      if (this.isOpen) this.ping();
      else this.retryNow();
    });
  }

  get isOpen(): boolean {
    return this.current?.opened === true && this.current.socket.readyState === WebSocket.OPEN;
  }

  get waiting(): boolean {
    return this.retryTimer !== undefined;
  }

  start(): void {
    this.stopped = false;
    if (!this.current && !this.waiting) this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    if (this.current) this.abandon(this.current, 1000, 'bye');
  }

  /** Drops the current socket and connects afresh, registering again. */
  restart(): void {
    this.stop();
    this.start();
  }

  /** Skips the backoff wait (the user asked, or the network came back). */
  retryNow(): void {
    if (this.stopped || !this.waiting) return;
    this.clearRetry();
    this.failures = 0;
    this.connect();
  }

  /** The server answered the join: the connection works, so the next failure starts the backoff afresh. */
  healthy(): void {
    this.failures = 0;
  }

  send(command: ClientCommand): boolean {
    if (!this.isOpen || !this.current) return false;
    this.current.socket.send(JSON.stringify(command));
    return true;
  }

  private connect(): void {
    this.clearRetry();
    this.handlers.connecting();
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, this.handlers.protocols());
    } catch {
      // A malformed URL or protocol list: retrying with backoff at least keeps the page alive and honest.
      this.scheduleRetry(false, 1006);
      return;
    }
    const attempt: Attempt = { socket, opened: false };
    this.current = attempt;
    attempt.connectTimer = window.setTimeout(
      () => this.abandon(attempt, 4000, 'connect timeout'),
      CONNECT_TIMEOUT_MS,
    );
    socket.onopen = () => {
      window.clearTimeout(attempt.connectTimer);
      attempt.opened = true;
      this.startHeartbeat();
      this.handlers.open();
    };
    socket.onmessage = (event: MessageEvent<unknown>) => {
      if (this.current !== attempt) return;
      // Any frame proves the connection alive.
      window.clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      if (typeof event.data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return;
      }
      if (isEnvelope(parsed)) this.handlers.envelope(parsed);
    };
    socket.onclose = (event) => {
      if (this.current === attempt) this.finish(attempt, event.code);
    };
  }

  /** Gives up on a socket without waiting for its close handshake, which a dead peer never completes. */
  private abandon(attempt: Attempt, code: number, reason: string): void {
    if (this.current !== attempt) return;
    try {
      attempt.socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.finish(attempt, 1006);
  }

  private finish(attempt: Attempt, code: number): void {
    this.detach(attempt);
    this.current = undefined;
    if (this.stopped) return;
    this.scheduleRetry(attempt.opened, code);
  }

  private detach(attempt: Attempt): void {
    window.clearTimeout(attempt.connectTimer);
    attempt.socket.onopen = null;
    attempt.socket.onmessage = null;
    attempt.socket.onclose = null;
    this.stopHeartbeat();
  }

  private scheduleRetry(opened: boolean, code: number): void {
    const delayMs = backoffDelay(this.failures);
    this.failures += 1;
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delayMs);
    this.handlers.closed({ opened, code, failures: this.failures, delayMs });
  }

  private clearRetry(): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = window.setInterval(() => this.ping(), this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    window.clearInterval(this.heartbeatTimer);
    window.clearTimeout(this.pongTimer);
    this.heartbeatTimer = undefined;
    this.pongTimer = undefined;
  }

  private ping(): void {
    const attempt = this.current;
    if (!attempt || !this.send({ type: 'ping' })) return;
    if (this.pongTimer !== undefined) return;
    this.pongTimer = window.setTimeout(
      () => this.abandon(attempt, 4000, 'no pong'),
      Math.min(MAX_PONG_WAIT_MS, this.heartbeatMs),
    );
  }
}
