import { randomBytes } from 'crypto';
import WebSocket from 'ws';
import { connectProtocols } from '../../code/chat/protocol';
import { issueToken } from '../../code/chat/token';

/**
 * Two clients join a fresh room on the deployed WebSocket URL; one sends a plain text frame (a chat message,
 * code/chat/protocol.ts) and the other must receive it as a `message` envelope. A dedicated room keeps the check out
 * of real conversations. With AUTH_SECRET set, the clients carry signed tokens, as a backend would issue them.
 */

export interface SmokeOptions {
  wsUrl: string;
  authSecret?: string;
  timeoutMs: number;
  log: (line: string) => void;
}

interface Envelope {
  type?: unknown;
  text?: unknown;
  for?: unknown;
  delivered?: unknown;
  failed?: unknown;
  code?: unknown;
  message?: unknown;
}

function connect(url: string, protocols: string[], timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { handshakeTimeout: timeoutMs });
    const fail = (reason: string) => {
      socket.removeAllListeners();
      socket.terminate();
      reject(new Error(reason));
    };
    socket.once('open', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('unexpected-response', (_req, res) =>
      fail(`the handshake was refused with HTTP ${res.statusCode} (the register function said no?)`),
    );
    socket.once('error', (error) => fail(`could not connect: ${error.message}`));
  });
}

function parse(data: WebSocket.RawData): Envelope | undefined {
  try {
    const value: unknown = JSON.parse(data.toString());
    return typeof value === 'object' && value !== null ? (value as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

export async function smokeCheck(options: SmokeOptions): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const room = `smoke-${id}`;
  const text = `smoke check ${id}`;
  const protocolsFor = (nick: string) =>
    options.authSecret
      ? connectProtocols({ token: issueToken(options.authSecret, { nick, room, ttlSeconds: 600 }) })
      : connectProtocols({ room, nick });
  const sockets: WebSocket[] = [];
  try {
    options.log(`connecting two clients to ${options.wsUrl} (room ${room})`);
    const alice = await connect(options.wsUrl, protocolsFor('smoke-a'), options.timeoutMs);
    sockets.push(alice);
    const bob = await connect(options.wsUrl, protocolsFor('smoke-b'), options.timeoutMs);
    sockets.push(bob);
    const seenByBob: string[] = [];
    const seenByAlice: string[] = [];
    const received = new Promise<void>((resolve) => {
      bob.on('message', (data) => {
        const envelope = parse(data);
        seenByBob.push(String(envelope?.type ?? 'non-JSON'));
        if (envelope?.type === 'message' && envelope.text === text) resolve();
      });
    });
    alice.on('message', (data) => {
      const e = parse(data);
      if (e?.type === 'ack' && e.for === 'message') {
        seenByAlice.push(`ack (delivered ${String(e.delivered)}, failed ${String(e.failed)})`);
      } else if (e?.type === 'error') {
        seenByAlice.push(`error ${String(e.code)}: ${String(e.message)}`);
      } else seenByAlice.push(String(e?.type ?? 'non-JSON'));
    });
    const closed = new Promise<never>((_resolve, reject) => {
      for (const [who, socket] of [
        ['sender', alice],
        ['receiver', bob],
      ] as const) {
        socket.on('close', (code) => reject(new Error(`the gateway closed the ${who} (code ${code})`)));
      }
    });
    // Settled by whichever comes first; the losers must not surface later as unhandled rejections.
    closed.catch(() => undefined);
    alice.send(text);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the receiver did not get the message within ${options.timeoutMs} ms; ` +
                `it saw [${seenByBob.join(', ')}], the sender saw [${seenByAlice.join(', ')}]`,
            ),
          ),
        options.timeoutMs,
      );
    });
    try {
      await Promise.race([received, closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    options.log(`the second client received "${text}"`);
  } finally {
    await Promise.all(sockets.map(closeGracefully));
  }
}

/** Closes with a close handshake (so the gateway sees a client close and runs cleanup), waiting at most 2 s. */
function closeGracefully(socket: WebSocket): Promise<void> {
  socket.removeAllListeners();
  socket.on('error', () => undefined);
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 2000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close(1000, 'smoke check done');
  });
}
