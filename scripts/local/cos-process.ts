import { fork } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import { createCosServer, type CosOperation, type CosServer } from './cos-server';

/**
 * The local COS server on a loopback port of its own: in the stack's process (`npm start`, the tests, which read
 * its keys and inject its faults), or in a process of its own (`forkCosProcess`).
 *
 * Why a process of its own: in the cloud COS is not in the gateway's process. In one process, a room of 10,000
 * put the store's work on the gateway's event loop and heap: a heap profile of 1,000 arrivals found its four
 * requests per join behind 83 of the process's 191 MB (LIST pages alone 62), so the gateway paused for scavenges
 * it would never make in production. Apart, each has its own loop and heap, and the bench counts the
 * store's CPU in a column of its own, so nothing it costs disappears.
 */

export const LOCAL_BUCKET = 'wschat-1250000000';
const MOUNT = '/_cos';

export interface ServedCos {
  cos: CosServer;
  /** What the functions' COS client is pointed at. */
  endpoint: string;
  close(): Promise<void>;
}

export async function serveLocalCos({
  dataDir,
  bucket = LOCAL_BUCKET,
}: { dataDir?: string; bucket?: string } = {}): Promise<ServedCos> {
  const cos = createCosServer({ dataDir, buckets: [bucket], mountPath: MOUNT });
  const server = http.createServer((req, res) => {
    if (!cos.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    cos,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${MOUNT}`,
    /** Idempotent, so a test may stop the store itself and still leave it to its cleanup. */
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cos.flush();
    },
  };
}

/**
 * The part of the COS server's controls a parent process can use, asynchronously, across the process boundary:
 * one question at a time (each waits for its answer before the next is asked).
 */
export interface CosProcess {
  endpoint: string;
  stats(): Promise<Record<CosOperation, number>>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

type ToCos = { type: 'stats' } | { type: 'reset' };
type FromCos =
  | { type: 'listening'; endpoint: string }
  | { type: 'stats'; stats: Record<CosOperation, number> }
  | { type: 'reset' };

/** The process's last argument, which is also how the bench's CPU accounting names it (cpuByProcess). */
export const COS_PROCESS_NAME = 'cos-server';

/**
 * Starts the COS server (in memory) in a child process running `bundle`, a built script whose entry calls
 * `cosProcessMain` when its last argument is COS_PROCESS_NAME.
 */
export async function forkCosProcess(bundle: string): Promise<CosProcess> {
  const child = fork(bundle, [COS_PROCESS_NAME], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromCos['type']>(type: T) =>
    new Promise<Extract<FromCos, { type: T }>>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`the COS process exited (${code}) before ${type}`));
      child.once('exit', onExit);
      child.once('message', (message: FromCos) => {
        child.off('exit', onExit);
        if (message.type === type) resolve(message as Extract<FromCos, { type: T }>);
        else reject(new Error(`the COS process answered ${message.type}, not ${type}`));
      });
    });
  const ask = <T extends FromCos['type']>(order: ToCos, answer: T) => {
    const answered = next(answer);
    child.send(order);
    return answered;
  };
  const { endpoint } = await next('listening');
  return {
    endpoint,
    stats: async () => (await ask({ type: 'stats' }, 'stats')).stats,
    resetStats: async () => {
      await ask({ type: 'reset' }, 'reset');
    },
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** The child's side: serves until its parent disconnects (or dies). */
export async function cosProcessMain(): Promise<void> {
  const served = await serveLocalCos();
  const send = (message: FromCos) => process.send?.(message);
  process.on('message', (order: ToCos) => {
    if (order.type === 'stats') send({ type: 'stats', stats: served.cos.stats() });
    else {
      served.cos.resetStats();
      send({ type: 'reset' });
    }
  });
  process.once('disconnect', () => void served.close().then(() => process.exit(0)));
  send({ type: 'listening', endpoint: served.endpoint });
}
