import { sseQuery } from '../code/client/sse-query';
import { backoffDelay } from './util';

/**
 * One WebSocket at a time, kept alive: reconnects with jittered exponential backoff, sends a heartbeat so the
 * gateway's idle timeout never fires, and gives up on a socket that stops answering instead of waiting for the
 * browser to notice (which can take minutes after a silent network change).
 *
 * When a WebSocket cannot be opened (no WebSocket in this browser, or an error before it opened: a proxy or
 * firewall that blocks upgrades), the next attempt uses the gateway's HTTP fallback instead: an EventSource on
 * /events for what the server sends, and POST /events/send with the stream's credential for what we send. Once
 * the fallback has worked, reconnects keep using it; if it fails before opening too, WebSocket is tried again.
 */

export type Transport = 'websocket' | 'sse';

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
  /** A frame from the server, parsed from JSON; the client session checks that it is an envelope. */
  frame(value: unknown): void;
  closed(info: CloseInfo): void;
}

const CONNECT_TIMEOUT_MS = 10_000;
const MAX_PONG_WAIT_MS = 20_000;

interface Attempt {
  transport: Transport;
  socket?: WebSocket;
  source?: EventSource;
  /** The SSE stream's send credential (its first event). */
  credential?: string;
  opened: boolean;
  connectTimer?: number;
}

/** Event types the gateway writes on an SSE stream (the envelope's `type`). */
const SSE_TYPES = ['message', 'ack', 'history', 'presence', 'error', 'pong'];

export class Connection {
  private current?: Attempt;
  /** What the next attempt uses: WebSocket unless it is missing or could not be opened. */
  private next: Transport = typeof WebSocket === 'function' ? 'websocket' : 'sse';
  /** Set once the fallback has opened: reconnects stay on it. */
  private fallbackWorks = false;
  private failures = 0;
  private retryTimer?: number;
  private heartbeatTimer?: number;
  private pongTimer?: number;
  private stopped = true;

  constructor(
    private readonly url: string,
    /** The gateway's /events URL (see eventsUrlFor); undefined: no HTTP fallback. */
    private readonly eventsUrl: string | undefined,
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
    const attempt = this.current;
    if (attempt?.opened !== true) return false;
    if (attempt.source) return attempt.source.readyState === EventSource.OPEN;
    return attempt.socket?.readyState === WebSocket.OPEN;
  }

  /** The transport of the open connection (or of the next attempt). */
  get transport(): Transport {
    return this.current?.transport ?? this.next;
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

  /** Sends one frame (a JSON command); false when there is no open connection to send it on. */
  send(frame: string): boolean {
    const attempt = this.current;
    if (!this.isOpen || !attempt) return false;
    if (attempt.socket) {
      attempt.socket.send(frame);
      return true;
    }
    if (!this.eventsUrl || attempt.credential === undefined) return false;
    // The answer (ack or error) also arrives on the stream, where it is handled like a WebSocket's.
    fetch(`${this.eventsUrl}/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${attempt.credential}` },
      body: frame,
    }).then(
      (response) => {
        // 401/410: the stream this credential names is gone; a new one gets a new credential.
        if (response.status === 401 || response.status === 410) this.abandon(attempt, 4000, 'stream gone');
      },
      () => this.abandon(attempt, 4000, 'send failed'),
    );
    return true;
  }

  private connect(): void {
    this.clearRetry();
    this.handlers.connecting();
    if (this.next === 'sse' && this.eventsUrl) return this.connectSse(this.eventsUrl);
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, this.handlers.protocols());
    } catch {
      // A malformed URL or protocol list (or no WebSocket at all): the HTTP fallback may still work.
      if (this.eventsUrl) this.next = 'sse';
      this.scheduleRetry(false, 1006, this.next === 'sse');
      return;
    }
    const attempt: Attempt = { transport: 'websocket', socket, opened: false };
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
      this.handlers.frame(parsed);
    };
    socket.onclose = (event) => {
      if (this.current === attempt) this.finish(attempt, event.code);
    };
  }

  private connectSse(eventsUrl: string): void {
    const query = sseQuery(this.handlers.protocols()).toString();
    let source: EventSource;
    try {
      source = new EventSource(`${eventsUrl}${query ? `?${query}` : ''}`);
    } catch {
      this.next = 'websocket';
      this.scheduleRetry(false, 1006);
      return;
    }
    const attempt: Attempt = { transport: 'sse', source, opened: false };
    this.current = attempt;
    attempt.connectTimer = window.setTimeout(
      () => this.abandon(attempt, 4000, 'connect timeout'),
      CONNECT_TIMEOUT_MS,
    );
    const deliver = (event: Event) => {
      if (this.current !== attempt || !(event instanceof MessageEvent)) return;
      window.clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(event.data));
      } catch {
        return;
      }
      this.handlers.frame(parsed);
    };
    for (const type of SSE_TYPES) source.addEventListener(type, deliver);
    source.addEventListener('credential', (event) => {
      if (this.current !== attempt) return;
      try {
        const body = JSON.parse(String(event.data)) as { credential?: unknown };
        if (typeof body.credential === 'string') attempt.credential = body.credential;
      } catch {
        return;
      }
      if (attempt.opened) return;
      window.clearTimeout(attempt.connectTimer);
      attempt.opened = true;
      this.fallbackWorks = true;
      this.startHeartbeat();
      this.handlers.open();
    });
    // The server ended the stream and says why; we reconnect ourselves (and catch up with join … since).
    source.addEventListener('close', () => {
      if (this.current === attempt) this.abandon(attempt, 1001, 'closed by server');
    });
    source.onerror = (event) => {
      // A server `event: error` is an envelope (handled above); this is the stream failing.
      if (event instanceof MessageEvent || this.current !== attempt) return;
      this.abandon(attempt, 1006, 'stream failed');
    };
  }

  /** Gives up on a socket without waiting for its close handshake, which a dead peer never completes. */
  private abandon(attempt: Attempt, code: number, reason: string): void {
    if (this.current !== attempt) return;
    try {
      attempt.socket?.close(code, reason);
    } catch {
      // Already closing.
    }
    attempt.source?.close();
    this.finish(attempt, 1006);
  }

  private finish(attempt: Attempt, code: number): void {
    this.detach(attempt);
    this.current = undefined;
    if (this.stopped) return;
    if (!attempt.opened && this.eventsUrl) {
      // Not opened: try the other transport next, unless the fallback is known to work here.
      this.next = attempt.transport === 'websocket' || this.fallbackWorks ? 'sse' : 'websocket';
      if (typeof WebSocket !== 'function') this.next = 'sse';
    }
    // A blocked WebSocket should cost the user no backoff wait before the fallback is tried.
    const fallingBack = !attempt.opened && attempt.transport === 'websocket' && this.next === 'sse';
    this.scheduleRetry(attempt.opened, code, fallingBack);
  }

  private detach(attempt: Attempt): void {
    window.clearTimeout(attempt.connectTimer);
    if (attempt.socket) {
      attempt.socket.onopen = null;
      attempt.socket.onmessage = null;
      attempt.socket.onclose = null;
    }
    if (attempt.source) {
      attempt.source.onerror = null;
      attempt.source.close();
    }
    this.stopHeartbeat();
  }

  private scheduleRetry(opened: boolean, code: number, immediately = false): void {
    const delayMs = immediately ? 0 : backoffDelay(this.failures);
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
    if (!attempt || !this.send(JSON.stringify({ type: 'ping' }))) return;
    if (this.pongTimer !== undefined) return;
    this.pongTimer = window.setTimeout(
      () => this.abandon(attempt, 4000, 'no pong'),
      Math.min(MAX_PONG_WAIT_MS, this.heartbeatMs),
    );
  }
}
