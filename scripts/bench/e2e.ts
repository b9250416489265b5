import { performance, monitorEventLoopDelay } from 'perf_hooks';
import { Worker, parentPort } from 'worker_threads';
import WebSocket from 'ws';
import { startLocalStack } from '../local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { mapBounded } from '../../code/util/map-bounded';
import { cpuWindow } from './cpu-monitor';
import { startProfiler } from './cpu-profiler';
import { summarize } from './stats';

/**
 * End to end on the local stack: real `ws` clients, in a worker thread so that they do not share an event loop
 * with the gateway and the functions (real clients are on other machines). Each message carries its sequence
 * number; the worker keeps the send time, so latency is measured on one clock.
 */

export interface E2eOptions {
  clients: number;
  rooms: number;
  /** Messages per second, over all clients. */
  rate: number;
  seconds: number;
  connectConcurrency: number;
  /** How long to wait after the last send for deliveries still under way. */
  drainMs: number;
}

export interface E2eReport {
  options: E2eOptions;
  connected: number;
  /** Clients that were open when sending started but closed before the end (should be 0). */
  closedDuringRun: number;
  connectFailures: number;
  connectMs: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  errors: number;
  latency: ReturnType<typeof summarize>;
  /** Send → the sender's ack, which the transport sends after every push was answered. */
  ackLatency: ReturnType<typeof summarize>;
  /** Achieved send rate. */
  rate: number;
  /** Event-loop delay of the stack's thread (gateway + functions) during the run, ms. */
  stackLoopDelayP99Ms?: number;
  /** Share of the run the stack's thread was busy (event-loop utilization). */
  stackUtilization?: number;
  /** CPU used by other processes on the machine meanwhile, in cores. */
  foreignCores?: number;
}

export interface E2eWorkerData {
  kind: 'e2e';
  wsUrl: string;
  options: E2eOptions;
}

interface Client {
  index: number;
  room: number;
  socket?: WebSocket;
  open: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(
  wsUrl: string,
  client: Client,
  onFrame: (client: Client, text: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      wsUrl,
      connectProtocols({ room: `e2e-${client.room}`, nick: `c${client.index}` }),
    );
    client.socket = socket;
    socket.on('open', () => {
      client.open = true;
      resolve();
    });
    socket.on('message', (data: WebSocket.RawData) => onFrame(client, data.toString()));
    socket.on('close', () => {
      client.open = false;
    });
    socket.on('error', reject);
    socket.on('unexpected-response', (_req, res) =>
      reject(new Error(`handshake refused: ${res.statusCode}`)),
    );
  });
}

/** Worker side: connect, send at a fixed rate, collect receipts, report. */
export async function e2eWorker(data: E2eWorkerData): Promise<void> {
  const { options, wsUrl } = data;
  const clients: Client[] = Array.from({ length: options.clients }, (_, index) => ({
    index,
    room: index % options.rooms,
    open: false,
  }));
  const total = Math.round(options.rate * options.seconds);
  const sentAt = new Float64Array(total);
  const senderOf = new Int32Array(total).fill(-1);
  // One byte per (message, client): 1 once received.
  const got = new Uint8Array(total * options.clients);
  const latencies: number[] = [];
  const ackLatencies: number[] = [];
  let duplicates = 0;
  let errors = 0;

  const onFrame = (client: Client, text: string) => {
    const now = performance.now();
    const envelope = JSON.parse(text) as { type?: string; text?: string; ref?: string; for?: string };
    if (envelope.type === 'message' && envelope.text?.startsWith('e2e:')) {
      const seq = Number(envelope.text.slice(4));
      const cell = seq * options.clients + client.index;
      if (got[cell]) duplicates += 1;
      else {
        got[cell] = 1;
        latencies.push(now - sentAt[seq]!);
      }
    } else if (envelope.type === 'ack' && envelope.for === 'message' && envelope.ref?.startsWith('m')) {
      ackLatencies.push(now - sentAt[Number(envelope.ref.slice(1))]!);
    } else if (envelope.type === 'error') errors += 1;
  };

  const connectStart = performance.now();
  let connectFailures = 0;
  // Bounded: each connect broadcasts a presence to the room.
  await mapBounded(clients, options.connectConcurrency, (client) =>
    connect(wsUrl, client, onFrame).catch(() => {
      connectFailures += 1;
    }),
  );
  const connectMs = performance.now() - connectStart;
  await sleep(500); // let the last presence broadcasts finish

  // Round-robin over the clients so that no one sender approaches the rate limit.
  const order = clients.filter((c) => c.open).sort(() => Math.random() - 0.5);
  const interval = 1000 / options.rate;
  const sendStart = performance.now();
  let expected = 0;
  for (let seq = 0; seq < total; seq += 1) {
    const due = sendStart + seq * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sender = order[seq % order.length]!;
    senderOf[seq] = sender.index;
    sentAt[seq] = performance.now();
    sender.socket!.send(JSON.stringify({ type: 'message', text: `e2e:${seq}`, ref: `m${seq}` }));
  }
  const sendMs = performance.now() - sendStart;

  // Everyone open when sending started stays for the whole run; a close before the end is reported, not excused.
  const byRoom = Array.from({ length: options.rooms }, (_, room) => order.filter((c) => c.room === room));
  const expectedFor = (seq: number) =>
    byRoom[clients[senderOf[seq]!]!.room]!.filter((c) => c.index !== senderOf[seq]);
  const drainUntil = performance.now() + options.drainMs;
  const missing = () => {
    let count = 0;
    expected = 0;
    for (let seq = 0; seq < total; seq += 1) {
      for (const c of expectedFor(seq)) {
        expected += 1;
        if (!got[seq * options.clients + c.index]) count += 1;
      }
    }
    return count;
  };
  let lost = missing();
  while (lost > 0 && performance.now() < drainUntil) {
    await sleep(100);
    lost = missing();
  }
  const report: E2eReport = {
    options,
    connected: order.length,
    closedDuringRun: order.filter((c) => !c.open).length,
    connectFailures,
    connectMs,
    sent: total,
    expected,
    received: latencies.length,
    lost,
    duplicates,
    errors,
    latency: summarize(latencies),
    ackLatency: summarize(ackLatencies),
    rate: total / (sendMs / 1000),
  };
  parentPort?.postMessage(report);
}

/**
 * Main side: a local stack in this thread (gateway, COS server and the functions, in-process), the clients in a
 * worker. With `profileFile`, a CPU profile of this thread over the whole run.
 */
export async function runE2e(
  workerFile: string,
  options: E2eOptions,
  profileFile?: string,
  /** dist/functions: run the SCF bundles in child processes, one per function (their logs go to stdout). */
  bundlesDir?: string,
): Promise<E2eReport> {
  const stack = await startLocalStack({ port: 0, bundlesDir });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const elu0 = performance.eventLoopUtilization();
  const cpu = cpuWindow();
  const profiler = profileFile ? await startProfiler() : undefined;
  const worker = new Worker(workerFile, {
    workerData: { kind: 'e2e', wsUrl: stack.wsUrl, options } satisfies E2eWorkerData,
  });
  try {
    delay.enable();
    const report = await new Promise<E2eReport>((resolve, reject) => {
      worker.once('message', (message: E2eReport) => resolve(message));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`e2e worker exited with ${code}`)));
    });
    delay.disable();
    if (profiler && profileFile) await profiler.stop(profileFile);
    return {
      ...report,
      stackLoopDelayP99Ms: delay.percentile(99) / 1e6,
      stackUtilization: performance.eventLoopUtilization(elu0).utilization,
      foreignCores: cpu().foreignCores,
    };
  } finally {
    // Server-side close first: the gateway then does not call cleanup for 200 departures.
    await stack.close();
    await worker.terminate();
  }
}
