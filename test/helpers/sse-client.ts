import http from 'http';

/**
 * An EventSource-style client over node:http: parses the stream as the HTML spec's EventSource does (event,
 * data, id fields; comments skipped), remembers the last event ID, and queues events for the test to await.
 */

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  /** `data` parsed as JSON, when it is. */
  json?: Record<string, unknown>;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  comments: number;
  lastEventId?: string;
  credential: string;
  next(predicate?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export class SseRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`stream refused: HTTP ${status} ${body}`);
  }
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { headers: { Accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => reject(new SseRefused(res.statusCode ?? 0, body)));
          return;
        }
        const events: SseEvent[] = [];
        const waiters: Array<() => void> = [];
        let cursor = 0;
        let buffer = '';
        let pending: { event: string; data: string[]; id?: string } = { event: '', data: [] };
        let endResolve: () => void = () => undefined;
        const ended = new Promise<void>((r) => (endResolve = r));
        const client: SseClient = {
          status: 200,
          events,
          comments: 0,
          credential: '',
          ended,
          async next(predicate = () => true, timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
              while (cursor < events.length) {
                const event = events[cursor++]!;
                if (predicate(event)) return event;
              }
              const remaining = deadline - Date.now();
              if (remaining <= 0)
                throw new Error(
                  `no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.slice(-5))}`,
                );
              await new Promise<void>((wake) => {
                const timer = setTimeout(wake, remaining);
                waiters.push(() => {
                  clearTimeout(timer);
                  wake();
                });
              });
            }
          },
          close: () => req.destroy(),
        };
        const dispatch = () => {
          if (pending.id !== undefined) client.lastEventId = pending.id;
          if (pending.data.length > 0) {
            const data = pending.data.join('\n');
            let json: Record<string, unknown> | undefined;
            try {
              json = JSON.parse(data) as Record<string, unknown>;
            } catch {
              json = undefined;
            }
            const event: SseEvent = { event: pending.event || 'message', data, id: pending.id, json };
            if (event.event === 'credential' && typeof json?.credential === 'string')
              client.credential = json.credential;
            events.push(event);
            waiters.splice(0).forEach((wake) => wake());
          }
          pending = { event: '', data: [] };
        };
        res.setEncoding('utf8');
        let first = true;
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (;;) {
            const nl = buffer.search(/\r\n|\r|\n/);
            if (nl < 0) break;
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
            if (line === '') dispatch();
            else if (line.startsWith(':')) client.comments += 1;
            else {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') pending.event = value;
              else if (field === 'data') pending.data.push(value);
              else if (field === 'id') pending.id = value;
            }
          }
          if (first && client.credential) {
            first = false;
            resolve(client);
          }
        });
        res.on('end', () => {
          endResolve();
          waiters.splice(0).forEach((wake) => wake());
        });
        res.on('close', () => endResolve());
        res.on('error', () => endResolve());
      },
    );
    req.on('error', reject);
  });
}

/** POST /events/send as a page or curl would. */
export function postSend(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; json?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
