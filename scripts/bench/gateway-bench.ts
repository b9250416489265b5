import { fork, type ChildProcess } from 'child_process';
import http from 'http';
import WebSocket from 'ws';
import { loadGatewayBase, type GatewayConfig } from '../../code/gateway/config';
import { startGateway } from '../../code/gateway/gateway';
import type { Invoker } from '../../code/gateway/invoker';
import { createGatewayLog } from '../../code/gateway/log';
import { pushDataBody, registerReply } from '../../code/tencent/gateway';
import { SIGNATURE_HEADER, signBody } from '../../code/util/signature';

/**
 * `npm run bench -- --only gateway`: the gateway itself, in child processes of its own so that its CPU and memory
 * are measured apart from the load generator. The functions are stubs that answer at once (register admits,
 * transport and cleanup return ok): what is measured is the gateway's cost per frame, per push and per socket.
 *   - frames/s: clients send text frames; each becomes one transport invocation;
 *   - pushes/s: signed `data send` pushes over keep-alive HTTP, each written to a socket;
 *   - memory per idle socket: RSS and heap after GC, empty and with N idle connections;
 *   - one node vs three: the same pushes, all sent to node 1, for connections spread over 1 or 3 nodes.
 * "per core" = work ÷ the gateway processes' CPU seconds (user + system) in that phase.
 */

const SECRET = 'bench-gateway-secret-0123456789abcdef';

type NodeMessage =
  | { kind: 'ready'; nodeId: string; wsUrl: string; pushUrl: string }
  | {
      kind: 'stats';
      cpuMicros: number;
      rss: number;
      heapUsed: number;
      transports: number;
      connections: number;
    };

/* ---------------- the child: one gateway node with stub functions ---------------- */

export async function gatewayNodeMain(): Promise<void> {
  let transports = 0;
  const invoker: Invoker = {
    async invoke(fn, event) {
      if (fn === 'register') {
        const id = (event as { websocket: { secConnectionID: string } }).websocket.secConnectionID;
        // Clients speak the protocol: the bench measures the envelope path, not plain-text rendering.
        return registerReply(id, { ok: true, protocol: 'wschat.v1' });
      }
      if (fn === 'transport') transports += 1;
      return { errNo: 0, errMsg: 'ok' };
    },
    async close() {},
  };
  const base = loadGatewayBase({
    GATEWAY_NODE_ID: process.env.BENCH_NODE_ID ?? 'b1',
    GATEWAY_LOG_LEVEL: 'error',
    GATEWAY_FRAMES_PER_SECOND: '100000',
    GATEWAY_FRAME_BURST: '100000',
    GATEWAY_MAX_QUEUED_FRAMES: '100000',
    // Every bench client is 127.0.0.1: per-address limits would measure themselves.
    GATEWAY_MAX_CONNECTIONS_PER_IP: '100000',
    GATEWAY_REQUESTS_PER_SECOND_PER_IP: '1000000',
    GATEWAY_REQUEST_BURST_PER_IP: '1000000',
  });
  const config: GatewayConfig = {
    ...base,
    publicHost: '127.0.0.1',
    publicPort: 0,
    pushHost: '127.0.0.1',
    pushPort: 0,
    secret: SECRET,
  };
  const gateway = await startGateway({ config, invoker, log: createGatewayLog('error', () => undefined) });
  const send = (message: NodeMessage) => process.send?.(message);
  process.on(
    'message',
    (message: { kind: 'stats' | 'ids' } | { kind: 'peers'; peers: Record<string, string> }) => {
      if (message.kind === 'ids')
        return void process.send?.({ kind: 'ids', ids: gateway.hub.connectionIds() });
      if (message.kind === 'peers') {
        for (const [id, url] of Object.entries(message.peers))
          if (id !== config.nodeId) config.peers.set(id, url);
        return;
      }
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      send({
        kind: 'stats',
        cpuMicros: cpu.user + cpu.system,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        transports,
        connections: gateway.hub.connectionCount(),
      });
    },
  );
  send({ kind: 'ready', nodeId: config.nodeId, wsUrl: gateway.wsUrl, pushUrl: gateway.pushUrl });
}

/* ---------------- the parent: load and measurement ---------------- */

interface NodeHandle {
  child: ChildProcess;
  nodeId: string;
  wsUrl: string;
  pushUrl: string;
  stats(): Promise<Extract<NodeMessage, { kind: 'stats' }>>;
}

function startNode(script: string, nodeId: string): Promise<NodeHandle> {
  const child = fork(script, [], {
    env: { ...process.env, BENCH_GATEWAY_NODE: '1', BENCH_NODE_ID: nodeId },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: NodeMessage) => {
      if (message.kind !== 'ready') return reject(new Error('unexpected first message'));
      resolve({
        child,
        nodeId: message.nodeId,
        wsUrl: message.wsUrl,
        pushUrl: message.pushUrl,
        stats: () =>
          new Promise((done) => {
            const onMessage = (m: NodeMessage) => {
              if (m.kind !== 'stats') return;
              child.off('message', onMessage);
              done(m);
            };
            child.on('message', onMessage);
            child.send({ kind: 'stats' });
          }),
      });
    });
  });
}

async function openClients(urls: string[], count: number, onMessage?: () => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => {
        const socket = new WebSocket(urls[(i + j) % urls.length]!, ['wschat.v1'], {
          perMessageDeflate: false,
        });
        if (onMessage) socket.on('message', onMessage);
        return new Promise<WebSocket>((resolve, reject) => {
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        });
      }),
    );
    sockets.push(...opened);
  }
  return sockets;
}

async function closeClients(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.readyState === WebSocket.CLOSED) return resolve();
          s.once('close', () => resolve());
          s.terminate();
        }),
    ),
  );
}

function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = async () => {
      if (await check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('bench: timed out waiting'));
      setTimeout(() => void poll(), 10);
    };
    void poll();
  });
}

/** To address a socket the bench needs its connection ID, which only the node knows: each node lists its own. */
async function connectionIdsOf(nodes: NodeHandle[]): Promise<string[]> {
  const all: string[] = [];
  for (const node of nodes) {
    all.push(
      ...(await new Promise<string[]>((resolve) => {
        const onMessage = (m: { kind: string; ids?: string[] }) => {
          if (m.kind !== 'ids') return;
          node.child.off('message', onMessage);
          resolve(m.ids ?? []);
        };
        node.child.on('message', onMessage);
        node.child.send({ kind: 'ids' });
      })),
    );
  }
  return all;
}

async function pushAll(pushUrl: string, ids: string[], total: number, concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(pushUrl);
  let next = 0;
  let failed = 0;
  const one = (id: string) =>
    new Promise<void>((resolve) => {
      const payload = JSON.stringify(pushDataBody(id, '{"v":1,"type":"message","text":"bench"}'));
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(payload),
            [SIGNATURE_HEADER]: signBody(SECRET, 'push', payload),
          },
        },
        (res) => {
          if (res.statusCode !== 200) failed += 1;
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', () => {
        failed += 1;
        resolve();
      });
      req.end(payload);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await one(ids[i % ids.length]!);
      }
    }),
  );
  agent.destroy();
  return failed;
}

export interface GatewayBenchReport {
  frames: { count: number; seconds: number; perSecond: number; perCoreSecond: number };
  pushes: { count: number; seconds: number; perSecond: number; perCoreSecond: number; failed: number };
  idle: { sockets: number; rssPerSocketKB: number; heapPerSocketKB: number; rssMB: number };
  cluster: Array<{
    nodes: number;
    pushes: number;
    seconds: number;
    perSecond: number;
    perCoreSecond: number;
    failed: number;
  }>;
}

const sumCpu = async (nodes: NodeHandle[]) =>
  (await Promise.all(nodes.map((n) => n.stats()))).reduce((s, x) => s + x.cpuMicros, 0) / 1e6;

export async function runGatewayBench(
  script: string,
  log: (line: string) => void,
): Promise<GatewayBenchReport> {
  const frameClients = 100;
  const framesEach = 200;
  const pushCount = 20_000;
  const idleSockets = Number(process.env.BENCH_IDLE_SOCKETS ?? 10_000);
  const one = await startNode(script, 'b1');
  try {
    // Frames.
    const clients = await openClients([one.wsUrl], frameClients);
    const before = await one.stats();
    let started = Date.now();
    for (const socket of clients) for (let i = 0; i < framesEach; i += 1) socket.send(`frame ${i}`);
    await until(
      async () => (await one.stats()).transports - before.transports >= frameClients * framesEach,
      120_000,
    );
    const frameSeconds = (Date.now() - started) / 1000;
    const frameCpu = (await one.stats()).cpuMicros / 1e6 - before.cpuMicros / 1e6;
    const frames = frameClients * framesEach;
    log(`  frames: ${frames} in ${frameSeconds.toFixed(2)} s`);

    // Pushes to those clients.
    let received = 0;
    for (const socket of clients) socket.on('message', () => (received += 1));
    const ids = await connectionIdsOf([one]);
    const cpuBefore = await sumCpu([one]);
    started = Date.now();
    const failed = await pushAll(one.pushUrl, ids, pushCount, 48);
    await until(() => received >= pushCount - failed, 60_000);
    const pushSeconds = (Date.now() - started) / 1000;
    const pushCpu = (await sumCpu([one])) - cpuBefore;
    log(`  pushes: ${pushCount} in ${pushSeconds.toFixed(2)} s`);
    await closeClients(clients);
    await until(async () => (await one.stats()).connections === 0, 30_000);

    // Idle sockets.
    const empty = await one.stats();
    const idle = await openClients([one.wsUrl], idleSockets);
    const full = await one.stats();
    log(`  idle: ${idleSockets} sockets held`);
    await closeClients(idle);

    // One node vs three: pushes all arrive at node 1.
    const cluster: GatewayBenchReport['cluster'] = [];
    const three = [one, await startNode(script, 'b2'), await startNode(script, 'b3')];
    const peers = Object.fromEntries(three.map((n) => [n.nodeId, n.pushUrl.replace(/\/push$/, '')]));
    for (const n of three) n.child.send({ kind: 'peers', peers });
    try {
      for (const nodes of [[one], three]) {
        let got = 0;
        const spread = await openClients(
          nodes.map((n) => n.wsUrl),
          300,
          () => (got += 1),
        );
        const spreadIds = await connectionIdsOf(nodes);
        const cpu0 = await sumCpu(three);
        const t0 = Date.now();
        const lost = await pushAll(one.pushUrl, spreadIds, pushCount, 48);
        await until(() => got >= pushCount - lost, 60_000);
        const seconds = (Date.now() - t0) / 1000;
        const cpu = (await sumCpu(three)) - cpu0;
        cluster.push({
          nodes: nodes.length,
          pushes: pushCount,
          seconds,
          perSecond: pushCount / seconds,
          perCoreSecond: pushCount / cpu,
          failed: lost,
        });
        log(`  ${nodes.length} node(s): ${pushCount} pushes in ${seconds.toFixed(2)} s`);
        await closeClients(spread);
      }
    } finally {
      for (const n of three.slice(1)) n.child.kill();
    }
    return {
      frames: {
        count: frames,
        seconds: frameSeconds,
        perSecond: frames / frameSeconds,
        perCoreSecond: frames / frameCpu,
      },
      pushes: {
        count: pushCount,
        seconds: pushSeconds,
        perSecond: pushCount / pushSeconds,
        perCoreSecond: pushCount / pushCpu,
        failed,
      },
      idle: {
        sockets: idleSockets,
        rssPerSocketKB: (full.rss - empty.rss) / idleSockets / 1024,
        heapPerSocketKB: (full.heapUsed - empty.heapUsed) / idleSockets / 1024,
        rssMB: full.rss / 1024 / 1024,
      },
      cluster,
    };
  } finally {
    one.child.kill();
  }
}
