import path from 'path';
import { loadConfig } from '../../code/config';
import { loadAwsConfig } from '../../code/config-aws';
import { createObjectStore } from '../../code/cos/object-store';
import { createS3Client, createS3ObjectStore } from '../../code/cos/s3-object-store';
import { createCosRegistry } from '../../code/registry/cos-registry';
import { buildFrameEvent as awsFrameEvent } from '../../code/aws/events';
import { buildFrameEvent as tencentFrameEvent } from '../../code/tencent/gateway';
import type { Platform } from '../../code/gateway/platform';
import { startLocalStack } from '../local/stack';
import { RunnerChild } from './child';
import { createRoom, growRoom, type FanoutContext } from './fanout';
import { formatMs, median, table } from './stats';

/**
 * `npm run bench -- --only fanout-aws`: one broadcast to N recipients through the Tencent push path (the SCF
 * transport bundle, signed POST /push, COS SDK) and through the AWS one (the Lambda $default bundle, the
 * management API client's POST /@connections/{id}, S3 SDK), side by side, on the same local gateway in each shape,
 * with the same added push latency and PUSH_CONCURRENCY. Warm invocations in a child process running the real
 * bundle; recipients are the gateway's virtual connections, so every push is answered and counted.
 */

export interface PlatformFanoutRow {
  n: number;
  platform: Platform;
  /** Median of the warm runs. */
  ms: number;
  cpuMs: number;
  /** Pushes the gateway counted as delivered in the last run (N − 1 messages + the sender's ack). */
  delivered: number;
  runs: number;
}

const BUNDLE: Record<Platform, string> = { tencent: 'functions/transport', aws: 'aws/default' };

function frame(platform: Platform, sender: string, text: string): unknown {
  const data = JSON.stringify({ type: 'message', text, ref: 'bench' });
  return platform === 'aws' ? awsFrameEvent(sender, 'text', data) : tencentFrameEvent(sender, 'text', data);
}

async function measurePlatform(
  platform: Platform,
  distDir: string,
  runner: string,
  sizes: number[],
  reps: number,
  pushLatencyMs: number,
  env: Record<string, string | undefined>,
): Promise<PlatformFanoutRow[]> {
  const stack = await startLocalStack({ platform, port: 0, env });
  try {
    const store =
      platform === 'aws'
        ? (() => {
            const config = loadAwsConfig(stack.env);
            return createS3ObjectStore(config.s3, createS3Client(config.s3, true));
          })()
        : createObjectStore(loadConfig(stack.env).cos);
    const ctx = { stack, registry: createCosRegistry(store) } as FanoutContext;
    stack.gateway.setPushLatency(pushLatencyMs);
    const warmup = await createRoom(ctx, 'warmup');
    const fixture = await createRoom(ctx, 'fanout');
    const rows: PlatformFanoutRow[] = [];
    for (const n of sizes) {
      await growRoom(ctx, fixture, n - 1);
      const ms: number[] = [];
      const cpu: number[] = [];
      let delivered = 0;
      for (let rep = 0; rep < reps; rep += 1) {
        const { child } = await RunnerChild.start(runner, stack.env);
        try {
          await child.request(
            { op: 'load', bundle: path.join(distDir, BUNDLE[platform], 'index.js') },
            'ready',
          );
          await child.request({ op: 'invoke', event: frame(platform, warmup.sender, 'warm') }, 'invoked');
          stack.gateway.resetPushStats();
          const run = await child.request(
            { op: 'invoke', event: frame(platform, fixture.sender, 'hi') },
            'invoked',
          );
          if (run.error) throw new Error(`${platform} broadcast threw: ${run.error}`);
          ms.push(run.ms);
          cpu.push(run.invocationCpuMs);
          delivered = stack.gateway.pushStats().virtual;
        } finally {
          child.kill();
        }
      }
      rows.push({ n, platform, ms: median(ms), cpuMs: median(cpu), delivered, runs: reps });
    }
    return rows;
  } finally {
    await stack.close();
  }
}

export async function runFanoutAws(options: {
  distDir: string;
  runner: string;
  pushLatencyMs: number;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}): Promise<PlatformFanoutRow[]> {
  const sizes = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
  const reps = Number(process.env.BENCH_AWS_REPS ?? 3);
  const rows: PlatformFanoutRow[] = [];
  for (const platform of ['tencent', 'aws'] as const) {
    options.log(`  ${platform}: rooms of ${sizes.join(', ')}…`);
    rows.push(
      ...(await measurePlatform(
        platform,
        options.distDir,
        options.runner,
        sizes,
        reps,
        options.pushLatencyMs,
        options.env,
      )),
    );
  }
  return rows;
}

export function printFanoutAws(rows: PlatformFanoutRow[] | undefined, log: (line: string) => void): void {
  if (!rows || rows.length === 0) return;
  log('\nFan-out by push path (warm, median): Tencent = signed POST /push; AWS = @connections via the SDK');
  const sizes = [...new Set(rows.map((r) => r.n))];
  const cell = (n: number, platform: Platform) => rows.find((r) => r.n === n && r.platform === platform);
  log(
    table(
      ['N', 'Tencent time', 'Tencent CPU', 'AWS time', 'AWS CPU', 'AWS/Tencent CPU', 'delivered (T / A)'],
      sizes.map((n) => {
        const t = cell(n, 'tencent');
        const a = cell(n, 'aws');
        return [
          String(n),
          formatMs(t?.ms),
          formatMs(t?.cpuMs),
          formatMs(a?.ms),
          formatMs(a?.cpuMs),
          t && a ? `${(a.cpuMs / t.cpuMs).toFixed(2)}×` : '–',
          `${t?.delivered ?? '–'} / ${a?.delivered ?? '–'}`,
        ];
      }),
    ),
  );
}
