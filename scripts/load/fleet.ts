import { performance } from 'perf_hooks';
import { parentPort } from 'worker_threads';
import WebSocket from 'ws';
import { connectProtocols } from '../../code/chat/protocol';
import { summarize } from '../bench/stats';
import { tallyDeliveries, type DeliveryTally, type MessageRecord, type SessionRecord } from './accounting';

/**
 * The client side of the load test, run in a worker thread: long-lived clients ("stayers") that heartbeat,
 * churners that come and go cleanly, reconnection after a server-side drop, and chat at a fixed rate. Every
 * observation is on this thread's clock; the main thread (gateway + functions) only drops connections.
 */

export interface FleetConfig {
  wsUrl: string;
  stayers: number;
  churners: number;
  rooms: number;
  /** Chat messages per second over all clients. */
  rate: number;
  seconds: number;
  pingMs: number;
  churnLifeMs: [number, number];
  churnPauseMs: [number, number];
  /** A dropped client reconnects after this long, as a real client would. */
  reconnectMs: number;
  /** Handshakes in flight at once, for every connect (initial, churn, reconnect). */
  connectConcurrency: number;
  graceMs: number;
  drainMs: number;
}

export type FleetToMain =
  | { type: 'ready'; connected: number; failed: number; connectMs: number }
  | { type: 'progress'; open: number; sent: number; received: number; pingP99Ms: number }
  | { type: 'chat-started' }
  | { type: 'chat-ended' }
  | { type: 'chat-done'; report: FleetReport }
  | { type: 'final'; open: number; unexpectedCloses: Record<string, number> };

export type MainToFleet = { type: 'start' } | { type: 'stop' };

export interface FleetReport {
  tally: DeliveryTally;
  sessions: number;
  /** Sessions of each kind that ended during the chat phase, and how. */
  endings: Record<string, number>;
  connects: number;
  connectFailures: number;
  openAtEnd: number;
  peakOpen: number;
  minOpenDuringChat: number;
  latency: ReturnType<typeof summarize>;
  pingRtt: ReturnType<typeof summarize>;
  pingsSent: number;
  pongs: number;
  errors: Record<string, number>;
}

interface Slot {
  index: number;
  kind: 'stayer' | 'churner';
  room: string;
  live?: Live;
  /** No more sessions for this slot. */
  stopped: boolean;
}

interface Live {
  socket: WebSocket;
  record: SessionRecord;
  pingTimer?: NodeJS.Timeout;
  leaveTimer?: NodeJS.Timeout;
  leaving: boolean;
  open: boolean;
  /** Heartbeats awaiting an answer, by ref. */
  pingsAt: Map<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([min, max]: [number, number]) => min + Math.random() * (max - min);

/** At most `limit` of the functions run at once, in arrival order. */
function semaphore(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await fn();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

export async function runFleet(config: FleetConfig): Promise<void> {
  const port = parentPort!;
  const post = (message: FleetToMain) => port.postMessage(message);
  const now = () => performance.now();
  const limit = semaphore(config.connectConcurrency);
  const slots: Slot[] = Array.from({ length: config.stayers + config.churners }, (_, index) => ({
    index,
    kind: index < config.stayers ? 'stayer' : 'churner',
    room: `load-${index % config.rooms}`,
    stopped: false,
  }));
  const sessions: SessionRecord[] = [];
  const messages: MessageRecord[] = [];
  const latencies: number[] = [];
  const pingRtts: number[] = [];
  const endings: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const unexpected: Record<string, number> = {};
  let connects = 0;
  let connectFailures = 0;
  let pingsSent = 0;
  let pongs = 0;
  let chatting = false;
  let open = 0;
  let peakOpen = 0;
  let minOpenDuringChat = Number.POSITIVE_INFINITY;
  const sentAt = new Map<number, number>();

  function end(slot: Slot, how: string): void {
    const live = slot.live;
    if (!live) return;
    slot.live = undefined;
    if (live.open) {
      open -= 1;
      if (chatting) minOpenDuringChat = Math.min(minOpenDuringChat, open);
    }
    live.record.endAt ??= now();
    clearInterval(live.pingTimer);
    clearTimeout(live.leaveTimer);
    if (chatting) {
      const key = `${slot.kind} ${how}`;
      endings[key] = (endings[key] ?? 0) + 1;
    }
  }

  function onFrame(live: Live, text: string): void {
    const at = now();
    const envelope = JSON.parse(text) as { type?: string; text?: string; code?: string; ref?: string };
    if (envelope.type === 'message' && envelope.text?.startsWith('load:')) {
      const seq = Number(envelope.text.slice(5));
      const count = live.record.received.get(seq) ?? 0;
      live.record.received.set(seq, count + 1);
      const sent = sentAt.get(seq);
      if (count === 0 && sent !== undefined) latencies.push(at - sent);
    } else if (envelope.type === 'pong' || envelope.type === 'error') {
      // Heartbeats carry a ref; an error answers a heartbeat (or a message) instead of a pong.
      const asked = envelope.ref?.startsWith('p') ? live.pingsAt.get(envelope.ref) : undefined;
      if (asked !== undefined) {
        live.pingsAt.delete(envelope.ref!);
        pingRtts.push(at - asked);
      }
      if (envelope.type === 'pong') pongs += 1;
      else {
        const key = `${envelope.code ?? 'unknown'} (${asked === undefined ? 'message' : 'heartbeat'})`;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  }

  function connect(slot: Slot): Promise<void> {
    return limit(
      () =>
        new Promise<void>((resolve) => {
          if (slot.stopped) return resolve();
          connects += 1;
          const socket = new WebSocket(
            config.wsUrl,
            connectProtocols({ room: slot.room, nick: `${slot.kind[0]}${slot.index}` }),
          );
          const record: SessionRecord = {
            id: sessions.length,
            room: slot.room,
            openAt: Number.POSITIVE_INFINITY,
            received: new Map(),
          };
          const live: Live = { socket, record, leaving: false, open: false, pingsAt: new Map() };
          let settled = false;
          const settle = () => {
            if (!settled) {
              settled = true;
              resolve();
            }
          };
          socket.on('open', () => {
            record.openAt = now();
            sessions.push(record);
            record.id = sessions.length - 1;
            live.open = true;
            slot.live = live;
            open += 1;
            peakOpen = Math.max(peakOpen, open);
            // Spread heartbeats over the period, so they do not arrive in waves.
            const first = setTimeout(() => {
              ping(live);
              live.pingTimer = setInterval(() => ping(live), config.pingMs);
            }, Math.random() * config.pingMs);
            live.pingTimer = first;
            if (slot.kind === 'churner') {
              const stay = chatting ? between(config.churnLifeMs) : Math.random() * config.churnLifeMs[1];
              live.leaveTimer = setTimeout(() => leave(slot, 'left cleanly'), stay);
            }
            settle();
          });
          socket.on('message', (data: WebSocket.RawData) => onFrame(live, data.toString()));
          socket.on('close', (code) => {
            if (!live.open) {
              connectFailures += 1;
              settle();
              return;
            }
            if (live.leaving) return;
            // Not ours: dropped by the gateway (1006 after a terminate) or closed by it (1000/1011).
            unexpected[code] = (unexpected[code] ?? 0) + 1;
            end(slot, `closed by server (${code})`);
            if (!slot.stopped) setTimeout(() => void connect(slot), config.reconnectMs);
          });
          socket.on('error', () => undefined);
          socket.on('unexpected-response', () => {
            connectFailures += 1;
            socket.terminate();
            settle();
          });
        }),
    );
  }

  function ping(live: Live): void {
    if (!live.open || live.leaving || live.socket.readyState !== WebSocket.OPEN) return;
    pingsSent += 1;
    const ref = `p${pingsSent}`;
    live.pingsAt.set(ref, now());
    live.socket.send(JSON.stringify({ type: 'ping', ref }));
  }

  function leave(slot: Slot, how: string): void {
    const live = slot.live;
    if (!live || live.leaving) return;
    live.leaving = true;
    live.record.endAt = now();
    live.socket.close(1000, 'bye');
    end(slot, how);
    if (!slot.stopped) setTimeout(() => void connect(slot), between(config.churnPauseMs));
  }

  const progress = setInterval(
    () =>
      post({
        type: 'progress',
        open,
        sent: messages.length,
        received: latencies.length,
        pingP99Ms: summarize(pingRtts.slice(-2000)).p99,
      }),
    5000,
  );

  // Phase 1: the long-lived clients.
  const t0 = now();
  await Promise.all(slots.filter((s) => s.kind === 'stayer').map((slot) => connect(slot)));
  post({
    type: 'ready',
    connected: slots.filter((s) => s.live).length,
    failed: connectFailures,
    connectMs: now() - t0,
  });
  await new Promise<void>((resolve) =>
    port.once('message', (m: MainToFleet) => (m.type === 'start' ? resolve() : undefined)),
  );

  // Phase 2: churn and chat. Churners arrive first (their first stays are staggered so that they do not all leave
  // together), then chat and server-side drops start.
  await Promise.all(slots.filter((s) => s.kind === 'churner').map((slot) => connect(slot)));
  chatting = true;
  minOpenDuringChat = open;
  post({ type: 'chat-started' });
  const interval = 1000 / config.rate;
  const chatStart = now();
  for (let seq = 0; now() - chatStart < config.seconds * 1000; seq += 1) {
    const wait = chatStart + seq * interval - now();
    if (wait > 0) await sleep(wait);
    const candidates = slots.filter((s) => s.live?.open && !s.live.leaving);
    const sender = candidates[Math.floor(Math.random() * candidates.length)];
    if (!sender?.live) continue;
    const number = messages.length;
    const at = now();
    sentAt.set(number, at);
    messages.push({ seq: number, room: sender.room, from: sender.live.record.id, sentAt: at });
    sender.live.socket.send(JSON.stringify({ type: 'message', text: `load:${number}` }));
  }
  post({ type: 'chat-ended' });
  // Churners leave for good; stayers keep their heartbeat for the sweep check.
  for (const slot of slots.filter((s) => s.kind === 'churner')) {
    slot.stopped = true;
    leave(slot, 'left cleanly');
  }
  chatting = false;
  clearInterval(progress);
  await sleep(config.drainMs);
  const tally = tallyDeliveries(sessions, messages, config.graceMs);
  post({
    type: 'chat-done',
    report: {
      tally,
      sessions: sessions.length,
      endings,
      connects,
      connectFailures,
      openAtEnd: open,
      peakOpen,
      minOpenDuringChat,
      latency: summarize(latencies),
      pingRtt: summarize(pingRtts),
      pingsSent,
      pongs,
      errors,
    },
  });

  await new Promise<void>((resolve) =>
    port.on('message', (m: MainToFleet) => (m.type === 'stop' ? resolve() : undefined)),
  );
  for (const slot of slots) slot.stopped = true;
  post({ type: 'final', open, unexpectedCloses: unexpected });
}
