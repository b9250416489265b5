import WebSocket from 'ws';

/** A real `ws` client with a queue of received JSON frames and a way to wait for the next matching one. */
export interface TestClient {
  socket: WebSocket;
  frames: Array<Record<string, unknown>>;
  next(
    predicate?: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(data: string | Record<string, unknown>): void;
  close(): Promise<void>;
  closed: Promise<number>;
}

export async function connectClient(url: string, protocols?: string[]): Promise<TestClient> {
  const socket = new WebSocket(url, protocols);
  const frames: Array<Record<string, unknown>> = [];
  let cursor = 0;
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Record<string, unknown>);
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`handshake refused: HTTP ${res.statusCode}`)),
    );
  });
  return {
    socket,
    frames,
    closed,
    async next(predicate = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < frames.length) {
          const frame = frames[cursor++]!;
          if (predicate(frame)) return frame;
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new Error(
            `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    send(data) {
      socket.send(typeof data === 'string' ? data : JSON.stringify(data));
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

export const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (frame: Record<string, unknown>) =>
    frame.type === type && Object.entries(extra).every(([k, v]) => frame[k] === v);

/** Polls `check` until it returns true or the time is up. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
