import http from 'http';
import https from 'https';
import { connectProtocols } from '../../code/chat/protocol';
import { sseQuery as sseQueryOf } from '../../code/client/sse-query';

/**
 * The terminal client's `--sse` transport: the gateway's server-sent events stream for what the server sends,
 * and POST /events/send (with the stream's credential) for what we send. It offers chat-cli.ts the few things
 * it uses of a WebSocket, so the session logic is the same for both.
 */

export interface LinkHandlers {
  open(): void;
  message(text: string): void;
  /** The stream was refused: the gateway's status and body (its `errMsg`). */
  refused(status: number, body: string): void;
  error(message: string): void;
  /** Once, whatever ended the stream; the code of the server's `close` event, or 1006. */
  close(code: number, reason: string): void;
}

/** `/events` of the gateway behind a WebSocket URL (`ws://host/ws` → `http://host/events`), or of an http one. */
export function eventsUrlOf(raw: string): string {
  const url = new URL(raw);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  if (!/\/events\/?$/.test(url.pathname)) url.pathname = url.pathname.replace(/\/(ws\/?)?$/, '') + '/events';
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/$/, '');
}

/** The SSE query for the connect options a WebSocket would offer as sub-protocols (the page's, code/client). */
export function sseQuery(options: { room?: string; nick?: string; token?: string; key?: string }): string {
  return sseQueryOf(connectProtocols(options)).toString();
}

const REFUSAL_BODY_LIMIT = 4096;

export class SseLink {
  private credential?: string;
  private opened = false;
  private ended = false;
  private closeCode = 1006;
  private closeReason = '';
  private readonly req: http.ClientRequest;
  /** POSTs go one after another, so frames reach the gateway in the order they were sent, as on a socket. */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly eventsUrl: string,
    query: string,
    private readonly handlers: LinkHandlers,
    timeoutMs: number,
  ) {
    const client = eventsUrl.startsWith('https:') ? https : http;
    this.req = client.get(`${eventsUrl}${query ? `?${query}` : ''}`, {
      headers: { Accept: 'text/event-stream' },
    });
    const timer = setTimeout(() => this.req.destroy(new Error('no answer in time')), timeoutMs);
    this.req.on('error', (error) => {
      clearTimeout(timer);
      this.handlers.error(error.message);
      this.end();
    });
    this.req.on('response', (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body = (body + chunk).slice(0, REFUSAL_BODY_LIMIT)));
        res.on('end', () => {
          this.handlers.refused(res.statusCode ?? 0, body);
          this.end();
        });
        res.on('error', () => this.end());
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      let event = '';
      let data: string[] = [];
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (;;) {
          const nl = buffer.search(/\r\n|\r|\n/);
          if (nl < 0) break;
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
          if (line === '') {
            if (data.length > 0) {
              if (event === 'credential') clearTimeout(timer);
              this.dispatch(event || 'message', data.join('\n'));
            }
            event = '';
            data = [];
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
        }
      });
      res.on('end', () => this.end());
      res.on('close', () => this.end());
      res.on('error', () => this.end());
    });
  }

  get isOpen(): boolean {
    return this.opened && !this.ended;
  }

  private dispatch(event: string, data: string): void {
    if (event === 'credential') {
      try {
        const body = JSON.parse(data) as { credential?: unknown };
        if (typeof body.credential === 'string') this.credential = body.credential;
      } catch {
        return;
      }
      if (!this.opened) {
        this.opened = true;
        this.handlers.open();
      }
      return;
    }
    if (event === 'close') {
      try {
        const body = JSON.parse(data) as { code?: unknown; reason?: unknown };
        if (typeof body.code === 'number') this.closeCode = body.code;
        if (typeof body.reason === 'string') this.closeReason = body.reason;
      } catch {
        // keep 1006
      }
      return;
    }
    this.handlers.message(data);
  }

  send(frame: string): void {
    const credential = this.credential;
    if (!this.isOpen || credential === undefined) return;
    this.sending = this.sending.then(() => this.post(frame, credential));
  }

  private post(frame: string, credential: string): Promise<void> {
    const client = this.eventsUrl.startsWith('https:') ? https : http;
    return new Promise((resolve) => {
      const req = client.request(`${this.eventsUrl}/send`, {
        method: 'POST',
        headers: {
          'Content-Type': frame.trimStart().startsWith('{')
            ? 'application/json'
            : 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(frame),
          Authorization: `Bearer ${credential}`,
        },
      });
      req.on('response', (res) => {
        // The answer (ack or error) arrives on the stream as well; only a dead stream matters here.
        if (res.statusCode === 401 || res.statusCode === 410) this.terminate();
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', (error) => {
        this.handlers.error(error.message);
        this.terminate();
        resolve();
      });
      req.end(frame);
    });
  }

  /** Ends the stream: the gateway sees it close and runs cleanup, as for a WebSocket close. */
  close(): void {
    this.closeCode = 1000;
    this.closeReason = 'bye';
    this.terminate();
  }

  terminate(): void {
    this.req.destroy();
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.close(this.closeCode, this.closeReason);
  }
}
