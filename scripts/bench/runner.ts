import http from 'http';
import { createRequire } from 'module';
import { performance } from 'perf_hooks';
import type {
  ChildMessage,
  ColdStartJob,
  ColdStartResult,
  MemoryPeak,
  ParentMessage,
  ProcessFigures,
  PushTarget,
} from './runner-protocol';
import { RESULT_MARKER } from './runner-protocol';
import { startProfiler } from './cpu-profiler';
import { SIGNATURE_HEADER, signBody } from '../../code/util/signature';

/**
 * A child process that plays one SCF container: it requires a function bundle and invokes `main_handler`, or
 * runs the comparison clients (ceiling, baseline). Only Node built-ins are loaded up front, so the memory and
 * start-up figures of a bundle are the bundle's own; axios and the COS SDK are loaded only by the baseline.
 */

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const load = createRequire(__filename);

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function figures(): ProcessFigures {
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    // maxRSS is in kilobytes.
    maxRss: process.resourceUsage().maxRSS * 1024,
    cpuMs: cpuMs(),
  };
}

/** Like the context SCF passes; the handlers set callbackWaitsForEmptyEventLoop to false. */
function scfContext(): Record<string, unknown> {
  return {
    callbackWaitsForEmptyEventLoop: true,
    memory_limit_in_mb: 128,
    time_limit_in_ms: 30000,
    request_id: `bench-${Date.now()}`,
    function_name: 'bench',
  };
}

/** Peaks of process.memoryUsage() while the event loop turns; a busy loop samples less often, not wrongly. */
function sampleMemory(): { stop(): MemoryPeak } {
  const peak: MemoryPeak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    for (const key of Object.keys(peak) as Array<keyof MemoryPeak>) peak[key] = Math.max(peak[key], now[key]);
  };
  sample();
  const timer = setInterval(sample, 25);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

function loadHandler(bundle: string): Handler {
  // SCF's entry is main_handler, Lambda's handler (dist/aws bundles, fanout-aws.ts).
  const exported = load(bundle) as { main_handler?: unknown; handler?: unknown };
  const entry = exported.main_handler ?? exported.handler;
  if (typeof entry !== 'function') throw new Error(`${bundle} exports no main_handler or handler`);
  return entry as Handler;
}

/** Our gateway refuses unsigned pushes, so both comparison clients sign each one as the push client does. */
function signature(body: string): Record<string, string> {
  const secret = process.env.GATEWAY_SECRET ?? '';
  return { [SIGNATURE_HEADER]: signBody(secret, 'push', body) };
}

function pushBody(id: string, data: string): string {
  return JSON.stringify({ websocket: { action: 'data send', secConnectionID: id, dataType: 'text', data } });
}

/** The ceiling client: nothing but http.request over keep-alive sockets, `concurrency` requests in flight. */
async function ceiling(target: PushTarget, concurrency: number): Promise<{ ok: number; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const url = new URL(target.url);
  let next = 0;
  let ok = 0;
  let failed = 0;
  const one = (id: string) =>
    new Promise<void>((resolve) => {
      const body = pushBody(id, target.data);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            ...signature(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const answer = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200 && answer.includes('"errNo":0')) ok += 1;
            else failed += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed += 1;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (next < target.ids.length) await one(target.ids[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, target.ids.length) }, worker));
  agent.destroy();
  return { ok, failed };
}

/**
 * The seed's algorithm, in TypeScript: list the bucket once (no Marker, so the first page only, at most 1000
 * keys), then POST to each listed connection one after another, each on a new TCP connection (the Python
 * `requests.post` without a session). Stops starting new pushes after `capMs`.
 */
async function baseline(job: Extract<ParentMessage, { op: 'baseline' }>) {
  const { default: COS } = await import('cos-nodejs-sdk-v5');
  const { default: axios } = await import('axios');
  const endpoint = new URL(job.cos.endpoint);
  const cos = new COS({
    SecretId: 'local',
    SecretKey: 'local',
    Protocol: endpoint.protocol as 'http:',
    Domain: `${endpoint.host}${endpoint.pathname.replace(/\/+$/, '')}/{Bucket}`,
    AutoSwitchHost: false,
  });
  const agent = new http.Agent({ keepAlive: false });
  const started = performance.now();
  const listing = await cos.getBucket({
    Bucket: job.cos.bucket,
    Region: job.cos.region,
    Prefix: job.cos.prefix,
  });
  // Keys map base64's "/", "+", "=" to "_", "-", "." (code/registry/keys.ts).
  const ids = listing.Contents.map((o) =>
    o.Key.slice(job.cos.prefix.length).replace(/[_.-]/g, (c) => ({ _: '/', '-': '+', '.': '=' })[c]!),
  ).filter((id) => id !== job.senderId);
  let pushed = 0;
  let capped = false;
  for (const id of ids) {
    if (performance.now() - started > job.capMs) {
      capped = true;
      break;
    }
    const body = pushBody(id, job.data);
    await axios.post(job.url, body, {
      httpAgent: agent,
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/json', ...signature(body) },
    });
    pushed += 1;
  }
  return { ms: performance.now() - started, listed: listing.Contents.length, pushed, capped };
}

function serve(): void {
  let handler: Handler | undefined;
  const send = (message: ChildMessage) => process.send?.(message);
  process.on('message', (message: ParentMessage) => {
    void (async () => {
      try {
        if (message.op === 'exit') {
          process.send?.({ op: 'exiting', ...figures() } satisfies ChildMessage, () => process.exit(0));
          return;
        }
        if (message.op === 'load') {
          const t0 = performance.now();
          handler = loadHandler(message.bundle);
          send({ op: 'ready', requireMs: performance.now() - t0, ...figures() });
          return;
        }
        const cpu0 = cpuMs();
        const t0 = performance.now();
        if (message.op === 'invoke') {
          if (!handler) throw new Error('invoke before load');
          let result: unknown;
          let error: string | undefined;
          const profiler = message.profileFile ? await startProfiler() : undefined;
          const sampler = sampleMemory();
          const started = performance.now();
          try {
            result = await handler(message.event, scfContext());
          } catch (thrown) {
            error = String(thrown);
          }
          const ms = performance.now() - started;
          const peak = sampler.stop();
          if (profiler && message.profileFile) await profiler.stop(message.profileFile);
          send({ op: 'invoked', ms, invocationCpuMs: cpuMs() - cpu0, result, error, peak, ...figures() });
        } else if (message.op === 'ceiling') {
          const outcome = await ceiling(message.target, message.concurrency);
          const ms = performance.now() - t0;
          send({ op: 'pushed', ms, invocationCpuMs: cpuMs() - cpu0, ...outcome, ...figures() });
        } else {
          const outcome = await baseline(message);
          send({ op: 'baselined', ...outcome, invocationCpuMs: cpuMs() - cpu0, ...figures() });
        }
      } catch (error) {
        send({
          op: 'failed',
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  send({ op: 'started', ...figures() });
}

/** One-shot cold start: require, one invocation, then exit at once (keep-alive sockets would hold the loop). */
async function coldStart(job: ColdStartJob): Promise<void> {
  const t0 = performance.now();
  const handler = loadHandler(job.bundle);
  const t1 = performance.now();
  let result: unknown;
  let error: string | undefined;
  try {
    result = await handler(job.event, scfContext());
  } catch (thrown) {
    error = String(thrown);
  }
  const report: ColdStartResult = {
    requireMs: t1 - t0,
    invokeMs: performance.now() - t1,
    result,
    error,
    maxRss: figures().maxRss,
  };
  process.stderr.write(`\n${RESULT_MARKER}${JSON.stringify(report)}\n`, () => process.exit(0));
}

if (process.env.BENCH_RUNNER_JOB) void coldStart(JSON.parse(process.env.BENCH_RUNNER_JOB) as ColdStartJob);
else serve();
