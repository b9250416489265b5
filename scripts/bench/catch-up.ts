import { randomBytes } from 'crypto';
import WebSocket from 'ws';
import { connectProtocols, type ChatMessage } from '../../code/chat/protocol';
import { ClientSession, type SessionEvent } from '../../code/client/session';
import { startLocalStack, type LocalStack } from '../local/stack';
import { check, formatMs, median, type Target } from './stats';

/**
 * `npm run bench -- --only catchup`: a client away while 500 messages are sent comes back; how long until the
 * shared client session (code/client/session.ts, what both faces run) has caught up, and whether it got every
 * message, in order, once. Then a send retried from a new connection with the same cid: it must appear once.
 * Runs the local stack in this process (gateway, functions, COS server), like `npm start`.
 */

export interface CatchUpRun {
  missed: number;
  /** From the new socket's open to the session's "ready" (join, every history page, shown). */
  ms: number;
  /** History requests the catch-up made (join + pages). */
  requests: number;
  received: number;
  missing: number;
  duplicates: number;
  ordered: boolean;
}

export interface CatchUpReport {
  runs: CatchUpRun[];
  medianMs: number;
  missing: number;
  duplicates: number;
  ordered: boolean;
  /** How many times the retried send (same cid, second connection) reached the reader and history. */
  retrySeen: number;
  retryStored: number;
}

const MISSED = 500;

/** A client session over a real `ws` socket; `events` collects what it emits. */
class BenchClient {
  readonly events: SessionEvent[] = [];
  readonly session: ClientSession;
  private socket?: WebSocket;
  private waiters: Array<() => void> = [];
  sentFrames = 0;

  constructor(
    private readonly url: string,
    room: string,
    nick: string,
  ) {
    this.session = new ClientSession(
      { room, nick, clientId: randomBytes(6).toString('base64url'), ratePerSecond: 10_000, burst: 10_000 },
      {
        send: (frame) => {
          this.sentFrames += 1;
          this.socket?.send(frame);
        },
        emit: (event) => {
          this.events.push(event);
          this.waiters.splice(0).forEach((wake) => wake());
        },
        now: Date.now,
        setTimer(ms, run) {
          const timer = setTimeout(run, ms);
          return () => clearTimeout(timer);
        },
      },
    );
  }

  async connect(): Promise<void> {
    const socket = new WebSocket(this.url, connectProtocols(this.session.connectOptions()));
    this.socket = socket;
    socket.on('message', (data) => this.session.received(String(data)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.session.opened();
  }

  async disconnect(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close();
    await closed;
    this.session.closed();
  }

  /** Waits until an event satisfies `done` (checked after each event). */
  async until(done: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('catch-up bench: timed out waiting for the session');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  count(type: SessionEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  shown(): ChatMessage[] {
    return this.events.flatMap((e) => (e.type === 'messages' ? e.messages : []));
  }

  delivered(): number {
    return this.events.filter((e) => e.type === 'send' && e.update.state === 'delivered').length;
  }
}

async function runOnce(stack: LocalStack, room: string): Promise<CatchUpRun> {
  const reader = new BenchClient(stack.wsUrl, room, 'reader');
  const writer = new BenchClient(stack.wsUrl, room, 'writer');
  await Promise.all([reader.connect(), writer.connect()]);
  await reader.until(() => reader.count('ready') === 1);
  await writer.until(() => writer.count('ready') === 1);
  // The reader has been in the room a while: it saw a message before it went away.
  writer.session.sendMessage('hello');
  await reader.until(() => reader.shown().some((m) => m.text === 'hello'));
  await reader.disconnect();
  for (let index = 0; index < MISSED; index += 1) writer.session.sendMessage(`missed ${index}`);
  await writer.until(() => writer.delivered() === MISSED, 120_000);
  const before = reader.shown().length;
  const framesBefore = reader.sentFrames;
  await reader.connect();
  const opened = Date.now();
  await reader.until(() => reader.count('ready') === 2);
  const ms = Date.now() - opened;
  const caughtUp = reader.shown().slice(before);
  const texts = caughtUp.filter((m) => m.from === 'writer').map((m) => m.text);
  const unique = new Set(texts);
  const ids = caughtUp.map((m) => m.id);
  await Promise.all([reader.disconnect(), writer.disconnect()]);
  return {
    missed: MISSED,
    ms,
    requests: reader.sentFrames - framesBefore,
    received: texts.length,
    missing: MISSED - [...unique].filter((t) => /^missed \d+$/.test(t)).length,
    duplicates: texts.length - unique.size,
    ordered: ids.every((id, index) => index === 0 || ids[index - 1]! < id),
  };
}

/** A send whose ack is lost, retried with the same cid from a new connection: seen once, stored once. */
async function retryOnce(stack: LocalStack, room: string): Promise<{ seen: number; stored: number }> {
  const reader = new BenchClient(stack.wsUrl, room, 'reader');
  await reader.connect();
  await reader.until(() => reader.count('ready') === 1);
  const cid = `bench-retry-${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const socket = new WebSocket(stack.wsUrl, connectProtocols({ room, nick: 'retrier' }));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const acked = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { ref?: string }).ref === 'r') resolve();
      }),
    );
    socket.send(JSON.stringify({ type: 'message', text: 'retried', cid, ref: 'r' }));
    await acked;
    socket.terminate();
  }
  // Another look at the room from scratch: history must hold it once.
  const late = new BenchClient(stack.wsUrl, room, 'late');
  await late.connect();
  await late.until(() => late.count('ready') === 1);
  const stored = late.shown().filter((m) => m.cid === cid).length;
  const seen = reader.shown().filter((m) => m.cid === cid).length;
  await Promise.all([reader.disconnect(), late.disconnect()]);
  return { seen, stored };
}

export async function runCatchUp(log: (line: string) => void, runs = 3): Promise<CatchUpReport> {
  const stack = await startLocalStack({
    port: 0,
    env: { HISTORY_LIMIT: '1000', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000' },
    // The writer posts the 500 as fast as acks come back; at the gateway's default 20 frames a second per
    // connection that alone took 25 s a run. What is measured is the reader's catch-up, which this does not touch.
    gatewayEnv: { GATEWAY_FRAMES_PER_SECOND: '1000', GATEWAY_FRAME_BURST: '1000' },
  });
  try {
    const results: CatchUpRun[] = [];
    for (let run = 0; run < runs; run += 1) {
      const result = await runOnce(stack, `catchup-${run}`);
      results.push(result);
      log(
        `  run ${run + 1}: ${result.received} of ${result.missed} in ${formatMs(result.ms)} ` +
          `(${result.requests} requests), missing ${result.missing}, duplicates ${result.duplicates}, ` +
          `${result.ordered ? 'in order' : 'OUT OF ORDER'}`,
      );
    }
    const retry = await retryOnce(stack, 'catchup-retry');
    log(`  retried send (same cid, new connection): seen ${retry.seen}×, stored ${retry.stored}×`);
    return {
      runs: results,
      medianMs: median(results.map((r) => r.ms)),
      missing: Math.max(...results.map((r) => r.missing)),
      duplicates: Math.max(...results.map((r) => r.duplicates)),
      ordered: results.every((r) => r.ordered),
      retrySeen: retry.seen,
      retryStored: retry.stored,
    };
  } finally {
    await stack.close();
  }
}

export function catchUpTargets(report: CatchUpReport | undefined): Target[] {
  const complete = report === undefined ? undefined : report.missing + report.duplicates;
  return [
    {
      name: `catch-up of ${MISSED} missed (median)`,
      value: formatMs(report?.medianMs),
      goal: '≤ 2 s',
      verdict: check(report?.medianMs, '<=', 2000),
    },
    {
      name: 'catch-up missing + duplicates, order',
      value: report ? `${complete} ${report.ordered ? 'in order' : 'out of order'}` : '-',
      goal: '0, in order',
      verdict: report && !report.ordered ? 'MISS' : check(complete, '==', 0),
    },
    {
      name: 'retried send (same cid): seen / stored',
      value: report ? `${report.retrySeen} / ${report.retryStored}` : '-',
      goal: '1 / 1',
      verdict: report ? check(report.retrySeen * 10 + report.retryStored, '==', 11) : 'n/a',
    },
  ];
}
