import { fork, type ChildProcess } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import { cpus } from 'os';
import path from 'path';
import { performance } from 'perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { connectProtocols, envelope, type ChatMessage } from '../../code/chat/protocol';
import { FUNCTION_ENV_VARS } from '../../code/config';
import { forkCosProcess } from '../local/cos-process';
import { startStackOnCos } from '../local/stack';
import { coresBusy, cpuByProcess, cpuPerUnit, cpuWindow } from './cpu-monitor';
import { check, formatMs, percentile, positiveIntEnv, table, type Target } from './stats';

/**
 * The "room formation" section of `npm run bench`: N real WebSocket clients join one room through the local stack
 * (gateway, functions, local COS server), each as our clients do (handshake, then `join`), then one of
 * them sends a message that must reach all the others. Measured: the time to form the room, handshake and join
 * latency, pushes and COS requests per join, and the message's time to reach everyone with its COS requests.
 *
 * The clients run in a child process (this same bundle, BENCH_ROOM_CLIENTS=1): 10,000 client sockets and 10,000
 * gateway sockets would not fit one process's file limit, and the stack gets a core of its own. (Timing the
 * arrivals from a process of their own was tried; it did not make the figures steadier on this VM.)
 *
 * The functions run as their built bundles, each in its own process, as SCF runs them apart from the gateway
 * (BENCH_ROOM_FUNCTIONS=modules runs the TypeScript modules on the gateway's thread instead, as `npm start` does).
 *
 * Three handshake latencies, because a crowd's shape decides what a latency means:
 * - "50 in flight": the formation itself, each of 50 clients connecting again as soon as it joined. A closed loop:
 *   its latency is 50 ÷ throughput (Little's law) at any room size, so it is shown, not judged.
 * - "paced": BENCH_ROOM_PACED_CLIENTS (1000) more people arriving at BENCH_ROOM_PACED_PER_SECOND (200: the pace of
 *   1,000 in 5 s) into the formed room, each on its own schedule, as a real crowd arrives.
 * - "alone": one handshake at a time into the formed room, each once the previous one's leave was handled (in a
 *   room of up to PRESENCE_MAX_ONLINE, a leave is a presence line to every member: a queue in front of the next).
 * The room has BENCH_ROOM_HISTORY (50) messages before the crowd arrives, so each join reads a full first page.
 * Env: BENCH_ROOM_SIZES (100,1000,10000), BENCH_ROOM_CONNECT_CONCURRENCY (50 handshakes in flight),
 * BENCH_ROOM_CAP_SECONDS (300: a formation still running then is reported as not finished), BENCH_ROOM_WARM_UP
 * (1000 clients form and leave a room of their own first, on each fresh stack).
 */

export interface RoomFormationRow {
  members: number;
  /** Clients that had their join ack; less than `members` when the cap stopped the run or handshakes failed. */
  joined: number;
  /**
   * Handshakes refused or failed (e.g. the gateway's handshake timeout while register was still running); each
   * client tries up to three times, as a client reconnecting would.
   */
  failed: number;
  formationS: number;
  handshakeP50Ms: number;
  handshakeP99Ms: number;
  /** One handshake at a time into the formed room (no crowd queueing in front of it). */
  aloneP50Ms: number;
  aloneP99Ms: number;
  /** More people arriving at a fixed pace into the formed room (open loop). */
  pacedP50Ms: number;
  pacedP99Ms: number;
  /** Paced arrivals that did not get a handshake. */
  pacedFailed: number;
  /** How long the paced arrivals took, and the CPU per arrival (its handshake and join) by process. */
  pacedS: number;
  cpuPerArrivalMs: Record<string, number>;
  /** The share of the machine's CPU time its host took for other guests while they arrived (see cpuWindow). */
  pacedStolenShare?: number;
  /**
   * Cores' worth of CPU our processes used while the formed room sat idle for ROOM_IDLE_MS (no arrivals, no
   * messages): what holding N members costs (heartbeats, timers). NaN where /proc is missing.
   */
  idleCores: number;
  /**
   * The stack process's heap per member once the room formed, after full collections: what holding a connection
   * costs the gateway (the COS server and the functions run apart). NaN without --expose-gc.
   */
  gatewayHeapPerMemberBytes: number;
  joinP50Ms: number;
  joinP99Ms: number;
  pushesPerJoin: number;
  /** Frames a join's client got from transport's answers instead of pushes (its ack and page). */
  repliesPerJoin: number;
  cosPerJoin: number;
  listsPerJoin: number;
  /**
   * CPU ms per join while the room formed, by process: 'stack' is the gateway, 'cos-server' the local COS server,
   * the functions are named, and the clients' process is 'bench.js'. Empty where /proc is missing.
   */
  cpuPerJoinMs: Record<string, number>;
  /** Then every member left at once: how many, the time until every cleanup ran, and the CPU per leave. */
  leaves: number;
  emptiedS: number;
  cpuPerLeaveMs: Record<string, number>;
  /** Time until one message reached all the other members (NaN when it did not). */
  messageS: number;
  messageReached: number;
  messageCos: number;
  messageLists: number;
}

export interface RoomFormationReport {
  connectConcurrency: number;
  /** Clients that formed and left a room of their own on each fresh stack before the measured one. */
  warmUp: number;
  functions: 'bundles' | 'modules';
  /** Messages in the room's history before the crowd arrives. */
  history: number;
  pacedClients: number;
  pacedPerSecond: number;
  /** The same paced arrivals against a server that runs none of our code (see measureFloor). */
  floor: FloorRow;
  rows: RoomFormationRow[];
}

export interface FloorRow {
  p50Ms: number;
  p99Ms: number;
  failed: number;
  seconds: number;
  cpuPerArrivalMs: Record<string, number>;
  stolenShare?: number;
}

type ParentToClients =
  | { type: 'form'; wsUrl: string; room: string; members: number; concurrency: number; capMs: number }
  | { type: 'message'; timeoutMs: number }
  /** Closes every client and forgets them (after the warm-up). */
  | { type: 'reset' }
  /** One client posts `count` messages to the room and leaves: the history a crowd joining a live room finds. */
  | { type: 'seed'; wsUrl: string; room: string; count: number }
  /** One handshake into the formed room, closed once it opens (the parent waits for its leave before the next). */
  | { type: 'probe'; wsUrl: string; room: string; index: number }
  /** `count` arrivals at `perSecond`, each on its own schedule (open loop); closed once all are in. */
  | { type: 'paced'; wsUrl: string; room: string; count: number; perSecond: number }
  | { type: 'close' };

type ClientsToParent =
  | { type: 'formed'; handshakesMs: number[]; joinsMs: number[]; seconds: number; failed: number }
  | { type: 'delivered'; seconds: number; reached: number }
  /** Undefined when the handshake failed. */
  | { type: 'probed'; handshakeMs?: number }
  | { type: 'paced'; handshakesMs: number[]; failed: number }
  | { type: 'reset'; closed: number }
  | { type: 'seeded'; stored: number };

/** Messages posted per seeding connection (see `seed`). */
const SEED_PER_CONNECTION = 15;
/** Handshakes made one at a time into each formed room. */
const PROBES = 100;
/** How long the formed room is held with nothing happening, to measure what holding it costs. */
const ROOM_IDLE_MS = 2000;

/** Runs the section: one fresh local stack per room size. `bundle` is the file this code was built into. */
export async function runRoomFormation(
  bundle: string,
  log: (line: string) => void,
): Promise<RoomFormationReport> {
  const sizes = (process.env.BENCH_ROOM_SIZES ?? '100,1000,10000').split(',').map(Number);
  const concurrency = positiveIntEnv('BENCH_ROOM_CONNECT_CONCURRENCY', 50);
  const capMs = positiveIntEnv('BENCH_ROOM_CAP_SECONDS', 300) * 1000;
  const functions = process.env.BENCH_ROOM_FUNCTIONS === 'modules' ? 'modules' : 'bundles';
  const paced = {
    count: positiveIntEnv('BENCH_ROOM_PACED_CLIENTS', 1000),
    perSecond: positiveIntEnv('BENCH_ROOM_PACED_PER_SECOND', 200),
  };
  // HISTORY_PAGE: a joiner's first page is full, as it is in a room that has been talking for a while.
  const history = positiveIntEnv('BENCH_ROOM_HISTORY', 50);
  const warmUp = positiveIntEnv('BENCH_ROOM_WARM_UP', 1000);
  log(`  the floor: ${paced.count} arrivals at ${paced.perSecond}/s to a bare ws server…`);
  const floor = await measureFloor(bundle, paced, history);
  const rows: RoomFormationRow[] = [];
  for (const members of sizes) {
    log(`  ${members} clients joining one room…`);
    rows.push(await formOneRoom(bundle, { members, concurrency, capMs, functions, paced, history, warmUp }));
  }
  return {
    connectConcurrency: concurrency,
    warmUp,
    functions,
    history,
    pacedClients: paced.count,
    pacedPerSecond: paced.perSecond,
    floor,
    rows,
  };
}

function forkClients(bundle: string): ChildProcess {
  return fork(bundle, [], {
    env: { ...process.env, BENCH_ROOM_CLIENTS: '1' },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function closeClients(child: ChildProcess): Promise<void> {
  child.send({ type: 'close' } satisfies ParentToClients);
  await new Promise((resolve) => child.once('exit', resolve));
}

/**
 * The floor under the paced row: the same clients arriving at the same pace, from the same process, to a `ws`
 * server in this process (where the stack runs) that does nothing but accept them and answer each `join` with an
 * ack and a page of `history` messages, the frames ours send. What a handshake costs and waits for on this
 * machine before any of our code runs (the gateway's checks, register, COS), measured in the same run.
 */
async function measureFloor(
  bundle: string,
  paced: { count: number; perSecond: number },
  history: number,
): Promise<FloorRow> {
  const ts = Date.now();
  const messages: ChatMessage[] = Array.from({ length: history }, (_, i) => ({
    id: `${ts.toString(36)}-${String(i).padStart(6, '0')}-floor`,
    room: 'crowd',
    from: 'seeder',
    tag: 'a1b2',
    text: `before the crowd ${i}`,
    ts: ts + i,
  }));
  const ack = envelope({
    type: 'ack',
    for: 'join',
    ref: 'j',
    room: 'crowd',
    nick: 'p0',
    tag: 'a1b2',
    online: 2,
  });
  const page = envelope({ type: 'history', ref: 'j', room: 'crowd', messages, more: false });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (offered) => offered.values().next().value ?? false,
  });
  wss.on('connection', (socket) =>
    socket.on('message', () => {
      socket.send(ack);
      socket.send(page);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const wsUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  const order = {
    type: 'paced',
    wsUrl,
    room: 'crowd',
    count: paced.count,
    perSecond: paced.perSecond,
  } as const;
  const child = forkClients(bundle);
  try {
    // Once to warm up (JIT, sockets), as each room's stack is warmed up first; then measured.
    await ask(child, order);
    const cpuBefore = cpuByProcess();
    const machine = cpuWindow();
    const started = performance.now();
    const crowd = await ask(child, order);
    const seconds = (performance.now() - started) / 1000;
    const cpuPerArrivalMs = cpuPerUnit(cpuBefore, paced.count);
    const handshakesMs = crowd.type === 'paced' ? crowd.handshakesMs : [];
    return {
      p50Ms: percentile(handshakesMs, 50),
      p99Ms: percentile(handshakesMs, 99),
      failed: crowd.type === 'paced' ? crowd.failed : paced.count,
      seconds,
      cpuPerArrivalMs,
      stolenShare: machine().stolenShare,
    };
  } finally {
    await closeClients(child);
    for (const socket of wss.clients) socket.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function formOneRoom(
  bundle: string,
  options: {
    members: number;
    concurrency: number;
    capMs: number;
    functions: RoomFormationReport['functions'];
    paced: { count: number; perSecond: number };
    history: number;
    /** Clients that form (and leave) a room of their own first. */
    warmUp: number;
  },
): Promise<RoomFormationRow> {
  const { members, concurrency, capMs, paced, history, warmUp } = options;
  // The local COS server in a process of its own, as COS is not in the gateway's (see cos-process.ts).
  const cos = await forkCosProcess(bundle);
  const stack = await startStackOnCos(
    {
      port: 0,
      host: '127.0.0.1',
      // Nobody idles out during a long formation; the gateway must hold every client.
      idleTimeoutMs: 600_000,
      ...(options.functions === 'bundles'
        ? { bundlesDir: path.join(path.dirname(bundle), '..', 'functions') }
        : {}),
      // The functions' settings as the bench was given them (PRESENCE_MAX_ONLINE, PUSH_CONCURRENCY, ...).
      // (Not where COS and the gateway are: the stack decides that.)
      env: Object.fromEntries(
        FUNCTION_ENV_VARS.filter((name) => !/^(COS_|TENCENTCLOUD_|PUSH_URL|GATEWAY_SECRET)/.test(name)).map(
          (name) => [name, process.env[name]],
        ),
      ),
      gatewayEnv: {
        GATEWAY_MAX_CONNECTIONS: String(Math.max(members, warmUp) + paced.count + 100),
        GATEWAY_LOG_LEVEL: 'warn',
      },
    },
    cos.endpoint,
  ).catch(async (error: unknown) => {
    await cos.close();
    throw error;
  });
  const child = forkClients(bundle);
  try {
    /** Resolves once the gateway holds at most `count` connections and every cleanup ran. */
    const untilConnected = async (count: number) => {
      while (stack.gateway.connectionIds().length > count)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await stack.gateway.settled();
    };
    /** Closes every client; resolves once the gateway holds none of them and every cleanup ran. */
    const everyoneLeaves = async () => {
      const reset = await ask(child, { type: 'reset' });
      await untilConnected(0);
      return reset.type === 'reset' ? reset.closed : 0;
    };
    // A warm-up room first, of the same size at every N, so the figures are of a running stack, not of its first
    // seconds (JIT, sockets): a room of 100 measured right after 100 joins measured the JIT.
    await ask(child, {
      type: 'form',
      wsUrl: stack.wsUrl,
      room: 'warmup',
      members: warmUp,
      concurrency,
      capMs,
    });
    await everyoneLeaves();
    const seeded = await ask(child, { type: 'seed', wsUrl: stack.wsUrl, room: 'crowd', count: history });
    if (seeded.type !== 'seeded' || seeded.stored !== history)
      throw new Error(`seeding the room's history: ${JSON.stringify(seeded)}`);
    await stack.gateway.settled();
    await cos.resetStats();
    stack.gateway.resetPushStats();
    const heapBefore = collectedHeap();
    const cpuBefore = cpuByProcess();
    const formed = await ask(child, {
      type: 'form',
      wsUrl: stack.wsUrl,
      room: 'crowd',
      members,
      concurrency,
      capMs,
    });
    if (formed.type !== 'formed') throw new Error('room clients answered out of turn');
    await stack.gateway.settled();
    const joined = formed.joinsMs.length;
    // The crowd as the gateway holds it (a client cut off by the cap may be connected without its join ack).
    const crowdConnections = stack.gateway.connectionIds().length;
    const cpuPerJoinMs = cpuPerUnit(cpuBefore, joined);
    const gatewayHeapPerMemberBytes = (collectedHeap() - heapBefore) / Math.max(1, crowdConnections);
    const joinCos = await cos.stats();
    const cosTotal = Object.values(joinCos).reduce((a, b) => a + b, 0);
    const { requests: pushes, replies } = stack.gateway.pushStats();
    await cos.resetStats();
    stack.gateway.resetPushStats();
    const delivered = joined >= 2 ? await ask(child, { type: 'message', timeoutMs: 60_000 }) : undefined;
    await stack.gateway.settled();
    const messageCos = await cos.stats();
    const alone: number[] = [];
    for (let index = 0; index < PROBES; index += 1) {
      const probe = await ask(child, { type: 'probe', wsUrl: stack.wsUrl, room: 'crowd', index });
      if (probe.type === 'probed' && probe.handshakeMs !== undefined) alone.push(probe.handshakeMs);
      // Nothing in front of the next one: this one's leave (and, in a small room, its presence line) ran.
      await untilConnected(crowdConnections);
    }
    // The room held with nothing happening: the measurement window itself, not a wait for something to settle.
    const cpuBeforeIdle = cpuByProcess();
    await new Promise((resolve) => setTimeout(resolve, ROOM_IDLE_MS));
    const idleCores = coresBusy(cpuPerUnit(cpuBeforeIdle, 1), 1, ROOM_IDLE_MS / 1000);
    const cpuBeforeArrivals = cpuByProcess();
    const machine = cpuWindow();
    const arriving = performance.now();
    const crowd = await ask(child, {
      type: 'paced',
      wsUrl: stack.wsUrl,
      room: 'crowd',
      count: paced.count,
      perSecond: paced.perSecond,
    });
    const pacedS = (performance.now() - arriving) / 1000;
    const cpuPerArrivalMs = cpuPerUnit(cpuBeforeArrivals, paced.count);
    const pacedStolenShare = machine().stolenShare;
    const pacedMs = crowd.type === 'paced' ? crowd.handshakesMs : [];
    // Then everyone leaves at once: each leave is a cleanup and, in a small room, a presence line to the rest.
    // (The paced arrivals left as the last came in; the room is the formed one again first.)
    await untilConnected(crowdConnections);
    const cpuBeforeLeaving = cpuByProcess();
    const leaving = performance.now();
    const leaves = await everyoneLeaves();
    const emptiedS = (performance.now() - leaving) / 1000;
    const cpuPerLeaveMs = cpuPerUnit(cpuBeforeLeaving, leaves);
    return {
      members,
      joined,
      failed: formed.failed,
      formationS: formed.seconds,
      handshakeP50Ms: percentile(formed.handshakesMs, 50),
      handshakeP99Ms: percentile(formed.handshakesMs, 99),
      aloneP50Ms: percentile(alone, 50),
      aloneP99Ms: percentile(alone, 99),
      pacedP50Ms: percentile(pacedMs, 50),
      pacedP99Ms: percentile(pacedMs, 99),
      pacedFailed: crowd.type === 'paced' ? crowd.failed : paced.count,
      pacedS,
      cpuPerArrivalMs,
      pacedStolenShare,
      idleCores,
      gatewayHeapPerMemberBytes,
      joinP50Ms: percentile(formed.joinsMs, 50),
      joinP99Ms: percentile(formed.joinsMs, 99),
      pushesPerJoin: pushes / Math.max(1, joined),
      repliesPerJoin: replies / Math.max(1, joined),
      cosPerJoin: cosTotal / Math.max(1, joined),
      listsPerJoin: joinCos.list / Math.max(1, joined),
      cpuPerJoinMs,
      leaves,
      emptiedS,
      cpuPerLeaveMs,
      messageS: delivered?.type === 'delivered' && delivered.reached === joined - 1 ? delivered.seconds : NaN,
      messageReached: delivered?.type === 'delivered' ? delivered.reached : 0,
      messageCos: delivered ? Object.values(messageCos).reduce((a, b) => a + b, 0) : NaN,
      messageLists: delivered ? messageCos.list : NaN,
    };
  } finally {
    await closeClients(child);
    await stack.close();
    await cos.close();
  }
}

/** This process's heap after full collections (NaN without --expose-gc, as `npm run bench` runs it). */
function collectedHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return NaN;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function ask(child: ChildProcess, message: ParentToClients): Promise<ClientsToParent> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`room clients exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (answer: ClientsToParent) => {
      child.off('exit', onExit);
      resolve(answer);
    });
    child.send(message);
  });
}

/** The child process: the clients themselves. */
export function roomClientsMain(): void {
  const sockets: WebSocket[] = [];
  const send = (message: ClientsToParent) => process.send?.(message);
  process.on('message', (message: ParentToClients) => {
    if (message.type === 'form') void form(message).then(send);
    else if (message.type === 'message') void messageAll(message.timeoutMs).then(send);
    else if (message.type === 'probe') void probe(message).then(send);
    else if (message.type === 'paced') void arrive(message).then(send);
    else if (message.type === 'seed') void seed(message).then(send);
    else if (message.type === 'reset') {
      const closing = sockets.splice(0);
      for (const socket of closing) socket.close();
      send({ type: 'reset', closed: closing.length });
    } else {
      for (const socket of sockets) socket.terminate();
      process.exit(0);
    }
  });

  async function form(
    order: Extract<ParentToClients, { type: 'form' }>,
  ): Promise<Extract<ClientsToParent, { type: 'formed' }>> {
    const started = performance.now();
    const handshakesMs: number[] = [];
    const joinsMs: number[] = [];
    let failed = 0;
    let next = 0;
    const one = (index: number, attempt = 1): Promise<void> =>
      new Promise<void>((resolve) => {
        const t0 = performance.now();
        const socket = new WebSocket(order.wsUrl, connectProtocols({ room: order.room, nick: `m${index}` }));
        socket.once('open', () => {
          sockets.push(socket);
          handshakesMs.push(performance.now() - t0);
          const t1 = performance.now();
          socket.send(JSON.stringify({ type: 'join', room: order.room, ref: 'j' }));
          const onFrame = (data: WebSocket.RawData) => {
            const text = data.toString();
            if (!text.includes('"for":"join"')) return;
            joinsMs.push(performance.now() - t1);
            socket.off('message', onFrame);
            resolve();
          };
          socket.on('message', onFrame);
        });
        socket.once('error', () => {
          failed += 1;
          // As our clients do: connect again (here at once, at most twice more).
          if (attempt < 3) void one(index, attempt + 1).then(resolve);
          else resolve();
        });
      });
    const deadline = started + order.capMs;
    const worker = async () => {
      while (next < order.members && performance.now() < deadline) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(order.concurrency, order.members) }, worker));
    return { type: 'formed', handshakesMs, joinsMs, seconds: (performance.now() - started) / 1000, failed };
  }

  async function probe(
    order: Extract<ParentToClients, { type: 'probe' }>,
  ): Promise<Extract<ClientsToParent, { type: 'probed' }>> {
    const t0 = performance.now();
    const socket = new WebSocket(
      order.wsUrl,
      connectProtocols({ room: order.room, nick: `probe${order.index}` }),
    );
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    const handshakeMs = opened ? performance.now() - t0 : undefined;
    socket.terminate();
    return { type: 'probed', handshakeMs };
  }

  async function seed(
    order: Extract<ParentToClients, { type: 'seed' }>,
  ): Promise<Extract<ClientsToParent, { type: 'seeded' }>> {
    let stored = 0;
    // A few posts per connection, within the per-connection burst (RATE_LIMIT_BURST, 20 by default).
    for (let first = 0; first < order.count; first += SEED_PER_CONNECTION) {
      const socket = new WebSocket(order.wsUrl, connectProtocols({ room: order.room, nick: 'host' }));
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      for (let i = first; i < Math.min(order.count, first + SEED_PER_CONNECTION); i += 1) {
        const ref = `s${i}`;
        const answered = new Promise<void>((resolve) => {
          const onFrame = (data: WebSocket.RawData) => {
            const frame = JSON.parse(data.toString()) as { type?: string; ref?: string; stored?: boolean };
            if (frame.ref !== ref) return;
            socket.off('message', onFrame);
            if (frame.type === 'ack' && frame.stored !== false) stored += 1;
            resolve();
          };
          socket.on('message', onFrame);
        });
        socket.send(JSON.stringify({ type: 'message', text: `before the crowd ${i}`, ref }));
        await answered;
      }
      socket.close();
    }
    return { type: 'seeded', stored };
  }

  async function arrive(
    order: Extract<ParentToClients, { type: 'paced' }>,
  ): Promise<Extract<ClientsToParent, { type: 'paced' }>> {
    const handshakesMs: number[] = [];
    let failed = 0;
    const arrivals: WebSocket[] = [];
    const started = performance.now();
    const one = (index: number) =>
      new Promise<void>((resolve) => {
        const t0 = performance.now();
        const socket = new WebSocket(order.wsUrl, connectProtocols({ room: order.room, nick: `p${index}` }));
        arrivals.push(socket);
        socket.once('open', () => {
          handshakesMs.push(performance.now() - t0);
          socket.send(JSON.stringify({ type: 'join', room: order.room, ref: 'j' }));
          resolve();
        });
        socket.once('error', () => {
          failed += 1;
          resolve();
        });
      });
    // Each arrival starts at its own time, whether or not the ones before it are in: nobody waits for a queue.
    const all: Array<Promise<void>> = [];
    for (let i = 0; i < order.count; i += 1) {
      const due = started + (i * 1000) / order.perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      all.push(one(i));
    }
    await Promise.all(all);
    for (const socket of arrivals) socket.terminate();
    return { type: 'paced', handshakesMs, failed };
  }

  async function messageAll(timeoutMs: number): Promise<Extract<ClientsToParent, { type: 'delivered' }>> {
    const text = `formed-${Date.now()}`;
    const [sender, ...others] = sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
    const started = performance.now();
    let reached = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      if (others.length === 0) resolve();
      for (const socket of others) {
        const onFrame = (data: WebSocket.RawData) => {
          if (!data.toString().includes(text)) return;
          socket.off('message', onFrame);
          reached += 1;
          if (reached === others.length) {
            clearTimeout(timer);
            resolve();
          }
        };
        socket.on('message', onFrame);
      }
      sender?.send(text);
    });
    return { type: 'delivered', seconds: (performance.now() - started) / 1000, reached };
  }
}

/** The section's table, and its targets (issue 14). */
export function printRoomFormation(report: RoomFormationReport, log: (line: string) => void): void {
  const n = (x: number, digits = 2) => (Number.isNaN(x) ? '-' : x.toFixed(digits));
  log(
    `\nRoom formation (real clients: handshake then join; ${report.connectConcurrency} handshakes in flight; ` +
      `functions as ${report.functions === 'bundles' ? 'bundles, each in its own process' : 'modules in the gateway process'}; ` +
      `${report.history} messages of history; paced: ${report.pacedClients} more arriving at ${report.pacedPerSecond}/s)`,
  );
  log(
    table(
      [
        'members',
        'formed in',
        'handshake p50',
        'p99',
        'paced p50',
        'p99',
        'alone p50',
        'p99',
        'join p50',
        'p99',
        'pushes/join',
        'replies/join',
        'COS/join',
        'LIST/join',
        'message to all',
        'msg COS',
        'msg LIST',
      ],
      report.rows.map((r) => [
        r.joined === r.members
          ? String(r.members)
          : `${r.joined} of ${r.members}${r.failed > 0 ? ` (${r.failed} failed)` : ''}`,
        `${r.formationS.toFixed(1)} s`,
        formatMs(r.handshakeP50Ms),
        formatMs(r.handshakeP99Ms),
        formatMs(r.pacedP50Ms),
        r.pacedFailed > 0 ? `${formatMs(r.pacedP99Ms)} (${r.pacedFailed} failed)` : formatMs(r.pacedP99Ms),
        formatMs(r.aloneP50Ms),
        formatMs(r.aloneP99Ms),
        formatMs(r.joinP50Ms),
        formatMs(r.joinP99Ms),
        n(r.pushesPerJoin),
        n(r.repliesPerJoin),
        n(r.cosPerJoin),
        n(r.listsPerJoin, 3),
        Number.isNaN(r.messageS) ? `${r.messageReached} reached` : `${(r.messageS * 1000).toFixed(0)} ms`,
        n(r.messageCos, 0),
        n(r.messageLists, 0),
      ]),
    ),
  );
  const { floor } = report;
  const floorCpu = Object.entries(floor.cpuPerArrivalMs)
    .map(([name, ms]) => `${name === 'stack' ? 'server' : name} ${ms.toFixed(2)} ms`)
    .join(', ');
  log(
    `The floor: the same ${report.pacedClients} arrivals at ${report.pacedPerSecond}/s from the same clients to a bare ws ` +
      'server where the stack runs (no gateway, functions or COS; each join answered with an ack and a full page): ' +
      `handshake p50 ${formatMs(floor.p50Ms)}, p99 ${formatMs(floor.p99Ms)}` +
      `${floor.failed > 0 ? ` (${floor.failed} failed)` : ''}; CPU per arrival ${floorCpu || 'unknown'}` +
      `${floor.stolenShare === undefined ? '' : `; ${stolen(floor.stolenShare)}`}`,
  );
  const names = [
    ...new Set(
      report.rows.flatMap((r) => [
        ...Object.keys(r.cpuPerJoinMs),
        ...Object.keys(r.cpuPerArrivalMs),
        ...Object.keys(r.cpuPerLeaveMs),
      ]),
    ),
  ].sort();
  if (names.length === 0) return;
  const phaseRow = (
    r: RoomFormationRow,
    what: string,
    units: number,
    seconds: number,
    byProcess: Record<string, number>,
  ) => [
    String(r.members),
    `${units} ${what}`,
    `${seconds.toFixed(1)} s`,
    ...names.map((name) => `${(byProcess[name] ?? 0).toFixed(2)} ms`),
    `${Object.values(byProcess)
      .reduce((a, b) => a + b, 0)
      .toFixed(2)} ms`,
    n(coresBusy(byProcess, units, seconds), 2),
  ];
  log(
    '\nCPU per join while the room formed, per paced arrival, and per leave when everyone left at once, by process ' +
      `(stack: gateway; cos-server: the local COS server; bench.js: clients); cores: how many of this machine's ${cpus().length} ` +
      'our processes kept busy in that phase',
  );
  log(
    table(
      ['members', 'what', 'took', ...names, 'all', 'cores'],
      report.rows.flatMap((r) => [
        phaseRow(r, 'joins', r.joined, r.formationS, r.cpuPerJoinMs),
        phaseRow(r, 'arrivals', report.pacedClients, r.pacedS, r.cpuPerArrivalMs),
        phaseRow(r, 'leaves', r.leaves, r.emptiedS, r.cpuPerLeaveMs),
      ]),
    ),
  );
  log(
    `Holding the formed room with nothing happening for ${ROOM_IDLE_MS / 1000} s: ` +
      report.rows.map((r) => `${n(r.idleCores, 3)} cores at ${r.members}`).join(', ') +
      "; the gateway's heap per member held: " +
      report.rows.map((r) => `${n(r.gatewayHeapPerMemberBytes / 1024, 2)} KiB at ${r.members}`).join(', '),
  );
}

function stolen(share: number): string {
  return `${(share * 100).toFixed(0)} % of the machine's time taken by its host`;
}

/**
 * The machine's load under the paced arrivals, which decides what their p99 means: "1.62 of 2 cores busy, 9 %
 * stolen" (the share of the VM's time its host ran other guests).
 */
function pacedLoad(report: RoomFormationReport, r: RoomFormationRow): string {
  const cores = coresBusy(r.cpuPerArrivalMs, report.pacedClients, r.pacedS);
  const load = Number.isNaN(cores) ? 'load unknown' : `${cores.toFixed(2)} of ${cpus().length} cores busy`;
  return r.pacedStolenShare === undefined
    ? load
    : `${load}, ${(r.pacedStolenShare * 100).toFixed(0)} % stolen`;
}

export function roomFormationTargets(report: RoomFormationReport): Target[] {
  const goals: Record<number, { formS: number; messageS: number }> = {
    1000: { formS: 5, messageS: 1 },
    10000: { formS: 60, messageS: 5 },
  };
  return report.rows.flatMap((r): Target[] => {
    const goal = goals[r.members];
    const formed = r.joined === r.members ? r.formationS : NaN;
    const rows: Target[] = [
      {
        name: `room of ${r.members}: handshake p99, ${report.pacedPerSecond}/s arriving`,
        value:
          r.pacedFailed > 0
            ? `${r.pacedFailed} failed`
            : `${formatMs(r.pacedP99Ms)} (${pacedLoad(report, r)})`,
        goal: '≤ 50 ms',
        verdict: r.pacedFailed > 0 ? 'MISS' : check(r.pacedP99Ms, '<=', 50),
      },
      {
        name: `room of ${r.members}: handshake p99, one at a time`,
        value: formatMs(r.aloneP99Ms),
        goal: '≤ 50 ms',
        verdict: check(r.aloneP99Ms, '<=', 50),
      },
    ];
    if (!goal) return rows;
    return [
      {
        name: `room of ${r.members}: formed`,
        value: Number.isNaN(formed) ? `${r.joined} joined` : `${formed.toFixed(1)} s`,
        goal: `≤ ${goal.formS} s`,
        verdict: Number.isNaN(formed) ? 'MISS' : check(formed, '<=', goal.formS),
      },
      ...rows,
      {
        name: `room of ${r.members}: one message to all`,
        value: Number.isNaN(r.messageS)
          ? `${r.messageReached} reached`
          : `${(r.messageS * 1000).toFixed(0)} ms`,
        goal: `≤ ${goal.messageS} s`,
        verdict: Number.isNaN(r.messageS) ? 'MISS' : check(r.messageS, '<=', goal.messageS),
      },
    ];
  });
}
