import { spawn } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import { promises as fs, statSync, readFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { performance } from 'perf_hooks';
import { gzipSync } from 'zlib';
import { startLocalStack } from '../local/stack';
import { loadConfig } from '../../code/config';
import { createObjectStore } from '../../code/cos/object-store';
import { createCosRegistry } from '../../code/registry/cos-registry';
import { connectProtocols } from '../../code/chat/protocol';
import {
  buildCloseEvent,
  buildConnectEvent,
  buildFrameEvent,
  buildHttpEvent,
  buildTimerEvent,
} from '../../code/tencent/gateway';
import { RESULT_MARKER, type ColdStartJob, type ColdStartResult } from './runner-protocol';
import { median, percentile } from './stats';

/**
 * Whole-process cold start: `node runner.js` that requires one bundle and runs its first invocation against a
 * small room on the local stack, timed from spawn to exit, next to bare `node -e 0`. Rounds are interleaved so
 * that machine noise hits every row alike.
 */

export const FUNCTION_NAMES = ['register', 'transport', 'cleanup', 'publish', 'sweep'] as const;

export interface BundleSize {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface ColdStartRow {
  name: string;
  runs: number;
  wallMedianMs: number;
  wallP90Ms: number;
  /** Median wall time minus the median of bare `node -e 0`. */
  overBareMs: number;
  requireMedianMs?: number;
  invokeMedianMs?: number;
  maxRssMedian?: number;
  errors: number;
}

export interface ColdStartReport {
  sizes: BundleSize[];
  rows: ColdStartRow[];
}

const newId = () => randomBytes(24).toString('base64');

/** `functionsDir` holds <name>/index.js for each function, as dist/functions does. */
export function bundleSizes(functionsDir: string): BundleSize[] {
  return FUNCTION_NAMES.map((name) => {
    const file = path.join(functionsDir, name, 'index.js');
    return { name, bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length };
  });
}

interface Timed {
  wallMs: number;
  result?: ColdStartResult;
}

function timeProcess(args: string[], env: Record<string, string>): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      const line = stderr.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (args[0] !== '-e' && !line) {
        reject(new Error(`cold-start child exited ${code} without a result: ${stderr.slice(-1500)}`));
        return;
      }
      resolve({
        wallMs,
        result: line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as ColdStartResult) : undefined,
      });
    });
  });
}

function failed(result: ColdStartResult | undefined): boolean {
  if (!result || result.error) return true;
  const reply = result.result as { errNo?: unknown; statusCode?: unknown } | undefined;
  if (reply && typeof reply.errNo === 'number') return reply.errNo !== 0;
  if (reply && typeof reply.statusCode === 'number') return reply.statusCode !== 200;
  return false;
}

export async function runColdStart(
  functionsDir: string,
  runner: string,
  rounds: number,
  /** Also run the transport once more under --cpu-prof, with this (unminified) bundle. */
  profile?: { dir: string; bundle: string; name: string },
): Promise<ColdStartReport> {
  const stack = await startLocalStack({ port: 0, env: { PUBLISH_TOKEN: 'bench-token' } });
  const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'wschat-bench-'));
  try {
    const registry = createCosRegistry(createObjectStore(loadConfig(stack.env).cos));
    const room = 'cold';
    const sender = newId();
    const others = [newId(), newId()];
    stack.gateway.addVirtualConnections([sender, ...others]);
    for (const [i, id] of [sender, ...others].entries())
      await registry.add({ id, room, nick: `cold${i}`, connectedAt: Date.now() });
    // The runner alone, requiring a bundle that does nothing: what the harness itself costs.
    const noop = path.join(temp, 'noop.js');
    await fs.writeFile(noop, 'exports.main_handler = async () => ({ errNo: 0 });\n');

    const bundle = (name: string) => path.join(functionsDir, name, 'index.js');
    const jobs: Record<string, () => Promise<ColdStartJob>> = {
      'runner only': async () => ({ bundle: noop, event: {} }),
      register: async () => {
        const id = newId();
        stack.gateway.addVirtualConnections([id]);
        return {
          bundle: bundle('register'),
          event: buildConnectEvent({
            connectionId: id,
            requestId: randomUUID(),
            sourceIp: '127.0.0.1',
            path: '/ws',
            protocols: connectProtocols({ room, nick: 'joiner' }),
          }),
        };
      },
      transport: async () => ({
        bundle: bundle('transport'),
        event: buildFrameEvent(sender, 'text', JSON.stringify({ type: 'message', text: 'cold' })),
      }),
      cleanup: async () => {
        const id = newId();
        stack.gateway.addVirtualConnections([id]);
        await registry.add({ id, room, nick: 'leaver', connectedAt: Date.now() });
        return { bundle: bundle('cleanup'), event: buildCloseEvent(id) };
      },
      publish: async () => ({
        bundle: bundle('publish'),
        event: buildHttpEvent({
          method: 'POST',
          path: '/publish',
          headers: { authorization: 'Bearer bench-token', 'content-type': 'application/json' },
          body: JSON.stringify({ room, text: 'cold publish' }),
        }),
      }),
      sweep: async () => ({ bundle: bundle('sweep'), event: buildTimerEvent(new Date()) }),
    };

    const samples = new Map<string, Timed[]>([
      ['node -e 0', []],
      ...Object.keys(jobs).map((k): [string, Timed[]] => [k, []]),
    ]);
    // Round 0 warms the page cache and is discarded.
    for (let round = 0; round <= rounds; round += 1) {
      const bare = await timeProcess(['-e', '0'], stack.env);
      if (round > 0) samples.get('node -e 0')!.push(bare);
      for (const [name, job] of Object.entries(jobs)) {
        const timed = await timeProcess([runner], {
          ...stack.env,
          BENCH_RUNNER_JOB: JSON.stringify(await job()),
        });
        if (round > 0) samples.get(name)!.push(timed);
      }
    }
    if (profile) {
      const job = { ...(await jobs.transport!()), bundle: profile.bundle };
      await timeProcess(
        ['--cpu-prof', `--cpu-prof-dir=${profile.dir}`, `--cpu-prof-name=${profile.name}`, runner],
        {
          ...stack.env,
          BENCH_RUNNER_JOB: JSON.stringify(job),
        },
      );
    }
    const bareMedian = median(samples.get('node -e 0')!.map((s) => s.wallMs));
    const rows = [...samples.entries()].map(([name, list]): ColdStartRow => {
      const walls = list.map((s) => s.wallMs);
      const results = list.flatMap((s) => (s.result ? [s.result] : []));
      return {
        name,
        runs: list.length,
        wallMedianMs: median(walls),
        wallP90Ms: percentile(walls, 90),
        overBareMs: median(walls) - bareMedian,
        requireMedianMs: results.length ? median(results.map((r) => r.requireMs)) : undefined,
        invokeMedianMs: results.length ? median(results.map((r) => r.invokeMs)) : undefined,
        maxRssMedian: results.length ? median(results.map((r) => r.maxRss)) : undefined,
        errors: name === 'node -e 0' ? 0 : list.filter((s) => failed(s.result)).length,
      };
    });
    return { sizes: bundleSizes(functionsDir), rows };
  } finally {
    await stack.close();
    await fs.rm(temp, { recursive: true, force: true });
  }
}
