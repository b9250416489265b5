import type { CatchUpReport } from './catch-up';
import type { CosClientRow } from './cos-client';
// The bench report: the tables printed after a run, and the targets they are checked against.
import type { BaselineRun, CeilingRun, TransportRun } from './fanout';
import type { RoomFormationReport } from './room-formation';
import type { ColdStartReport } from './coldstart';
import type { E2eReport } from './e2e';
import type { GatewayBenchReport } from './gateway-bench';
import type { PlatformFanoutRow } from './fanout-aws';
import type { ProfileSummary } from './profile';
import type { MemoryPeak } from './runner-protocol';
import { check, formatBytes, formatMs, table, type Target } from './stats';

export const PUSH_LATENCY_MS = 5;
const MB = 1024 * 1024;

export function log(line: string): void {
  console.log(line);
}

const signed = (ms: number) => (ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`);

export interface FanoutSummary {
  n: number;
  warmMs: number;
  /** The same sender's next broadcast in the same child (JIT-warm, sockets open, sender known). */
  hotMs?: number;
  coldMs?: number;
  ceilingMs: number;
  baselineMs?: number;
  baselineReached?: number;
  baselineCapped?: boolean;
  /** warm / ceiling */
  vsCeiling: number;
  /** baseline / warm: how many times faster than the seed's algorithm (which reaches ≤ 999). */
  vsBaseline?: number;
  transportUsPerPush: number;
  hotUsPerPush?: number;
  ceilingUsPerPush: number;
  deliveryOk: boolean;
  /** Median CPU used by other processes during the warm/ceiling pairs, in cores. */
  foreignCores?: number;
}

export interface BenchResults {
  startedAt: string;
  durationS?: number;
  machine: Record<string, string | number>;
  gateway?: GatewayBenchReport;
  fanoutAws?: PlatformFanoutRow[];
  rooms?: RoomFormationReport;
  cosClient?: CosClientRow[];
  settings: Record<string, string | number | boolean>;
  fanout?: {
    runs: TransportRun[];
    ceiling: CeilingRun[];
    baseline: BaselineRun[];
    summary: FanoutSummary[];
    /** Pairs measured again because other processes used more than BENCH_MAX_FOREIGN_CORES. */
    retries: number;
  };
  memory?: {
    n: number;
    rssAfterRequire?: number;
    /** The highest of the cold runs' peaks (each a process running one invocation). */
    maxRssCold?: number;
    maxRssColdRuns: number[];
    maxRssWarm?: number;
    heapUsedAfter?: number;
    /** Sampled peaks of the cold invocation: which part of the process grew. */
    peakCold?: MemoryPeak;
    /** The same cold invocation with V8 heap flags: how much of the peak is garbage V8 had not collected yet. */
    capped?: { flags: string; maxRss: number; ms: number; delivered: number; heapTotalPeak: number };
  };
  coldstart?: ColdStartReport;
  e2e?: E2eReport & { attempts: Array<{ p99: number; lost: number; foreignCores?: number }> };
  cos?: Array<{
    n: number;
    /** The first message a container handles from a sender reads its record; later ones need not. */
    message: string;
    total: number;
    target: number;
    roomSize: number;
    breakdown: Record<string, number>;
  }>;
  profiles?: Record<string, ProfileSummary & { file: string; what: string }>;
  catchup?: CatchUpReport;
  targets: Target[];
}

export function printFanout(results: BenchResults): void {
  const fanout = results.fanout;
  if (!fanout) return;
  log(
    `\nFan-out: one transport invocation in a room of N connections (N pushes: the message to N − 1, the ack to ` +
      `the sender), push endpoint +${PUSH_LATENCY_MS} ms per request`,
  );
  log(
    table(
      [
        'N',
        'transport warm',
        'cold',
        'hot',
        'ceiling',
        'warm/ceiling',
        'baseline (seed)',
        'reached',
        'speed-up',
        'µs CPU/push',
        'hot µs/push',
        'ceiling µs/push',
        'all delivered',
        'other load',
      ],
      fanout.summary.map((s) => [
        String(s.n),
        formatMs(s.warmMs),
        formatMs(s.coldMs),
        formatMs(s.hotMs),
        formatMs(s.ceilingMs),
        `${s.vsCeiling.toFixed(2)}×`,
        s.baselineMs === undefined ? '-' : `${formatMs(s.baselineMs)}${s.baselineCapped ? ' (capped)' : ''}`,
        s.baselineReached === undefined ? '-' : String(s.baselineReached),
        s.vsBaseline === undefined ? '-' : `${s.vsBaseline.toFixed(1)}×`,
        s.transportUsPerPush.toFixed(0),
        s.hotUsPerPush === undefined ? '-' : s.hotUsPerPush.toFixed(0),
        s.ceilingUsPerPush.toFixed(0),
        s.deliveryOk ? 'yes' : 'NO',
        s.foreignCores === undefined ? '-' : `${s.foreignCores.toFixed(2)} cores`,
      ]),
    ),
  );
  log(
    '  warm = median of runs in a new child after one warm-up message in a 1-member room; cold = first invocation of a\n' +
      '  new child. ceiling = bare keep-alive http.request, same requests in flight (PUSH_CONCURRENCY). baseline = one\n' +
      '  COS list page + sequential axios POSTs without keep-alive to all listed but the sender (first page only).\n' +
      '  µs CPU/push = CPU time of the child during the invocation / pushes (incl. COS and the ack).\n' +
      `  other load = CPU used by other processes meanwhile; ${fanout.retries} disturbed pair(s) were measured again.`,
  );
}

export function printRest(results: BenchResults): void {
  if (results.memory) {
    const m = results.memory;
    log(`\nMemory (child process running one transport invocation, N=${m.n})`);
    log(
      table(
        ['figure', 'value'],
        [
          ['RSS after require of the bundle', formatBytes(m.rssAfterRequire)],
          [
            `peak RSS (maxRSS), cold child: one invocation (${m.maxRssColdRuns.length} runs)`,
            m.maxRssColdRuns.map((b) => formatBytes(b)).join(', '),
          ],
          ['peak RSS (maxRSS), warm child after warm-up + 2 broadcasts', formatBytes(m.maxRssWarm)],
          ['first cold run: heap used at exit', formatBytes(m.heapUsedAfter)],
          ['  peaks sampled during its invocation: rss', formatBytes(m.peakCold?.rss)],
          [
            '  heapTotal / heapUsed',
            `${formatBytes(m.peakCold?.heapTotal)} / ${formatBytes(m.peakCold?.heapUsed)}`,
          ],
          [
            '  external / arrayBuffers',
            `${formatBytes(m.peakCold?.external)} / ${formatBytes(m.peakCold?.arrayBuffers)}`,
          ],
          ...(m.capped
            ? [
                [`same, cold, with ${m.capped.flags}`, `peak RSS ${formatBytes(m.capped.maxRss)}`],
                [
                  '  its time / pushes delivered / heapTotal peak',
                  `${formatMs(m.capped.ms)} / ${m.capped.delivered} / ${formatBytes(m.capped.heapTotalPeak)}`,
                ],
              ]
            : []),
        ],
      ),
    );
  }
  if (results.cos) {
    log(
      '\nCOS requests per broadcast (counted by the local COS server around one invocation of a warm child)',
    );
    log(
      table(
        ['N', 'message', 'room size', 'requests', 'target 2+ceil(N/1000)', 'breakdown'],
        results.cos.map((c) => [
          String(c.n),
          c.message,
          String(c.roomSize),
          String(c.total),
          String(c.target),
          Object.entries(c.breakdown)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
      ),
    );
  }
  if (results.coldstart) {
    const cs = results.coldstart;
    log('\nBundles');
    log(
      table(
        ['function', 'bytes', 'gzip'],
        cs.sizes.map((s) => [s.name, formatBytes(s.bytes), formatBytes(s.gzipBytes)]),
      ),
    );
    log(
      `\nCold start: whole process, require + first invocation (median of ${cs.rows[0]?.runs ?? 0} runs each)`,
    );
    log(
      table(
        [
          'process',
          'wall median',
          'p90',
          'over bare node',
          'require',
          'first invocation',
          'peak RSS',
          'errors',
        ],
        cs.rows.map((r) => [
          r.name,
          formatMs(r.wallMedianMs),
          formatMs(r.wallP90Ms),
          r.name === 'node -e 0' ? '-' : signed(r.overBareMs),
          formatMs(r.requireMedianMs),
          formatMs(r.invokeMedianMs),
          formatBytes(r.maxRssMedian),
          String(r.errors),
        ]),
      ),
    );
  }
  if (results.e2e) {
    const e = results.e2e;
    log(
      `\nEnd to end: ${e.options.clients} ws clients in ${e.options.rooms} rooms, ${e.options.rate} msg/s for ${e.options.seconds} s`,
    );
    log(
      table(
        ['figure', 'value'],
        [
          ['connected (failures)', `${e.connected} (${e.connectFailures}) in ${formatMs(e.connectMs)}`],
          ['messages sent (rate)', `${e.sent} (${e.rate.toFixed(1)}/s)`],
          ['deliveries expected / received', `${e.expected} / ${e.received}`],
          ['lost / duplicates / errors', `${e.lost} / ${e.duplicates} / ${e.errors}`],
          ['clients closed during the run', String(e.closedDuringRun)],
          [
            'latency p50 / p95 / p99 / max',
            [e.latency.p50, e.latency.p95, e.latency.p99, e.latency.max].map(formatMs).join(' / '),
          ],
          ['ack latency p50 / p99', `${formatMs(e.ackLatency.p50)} / ${formatMs(e.ackLatency.p99)}`],
          ['stack event-loop delay p99', formatMs(e.stackLoopDelayP99Ms)],
          [
            'runs (p99, other processes)',
            e.attempts.map((a) => `${formatMs(a.p99)}, ${(a.foreignCores ?? 0).toFixed(2)} cores`).join('; '),
          ],
          [
            'stack thread busy (ELU) / other processes',
            `${((e.stackUtilization ?? 0) * 100).toFixed(0)}% / ${(e.foreignCores ?? 0).toFixed(2)} cores`,
          ],
        ],
      ),
    );
  }
  if (results.profiles) {
    for (const [name, p] of Object.entries(results.profiles)) {
      log(`\nProfile: ${name}, ${p.what}: ${formatMs(p.totalMs)} sampled, ${p.file}`);
      const rows = (list: ProfileSummary['byModule']) =>
        list.slice(0, 12).map((m) => [m.module, m.ms.toFixed(0), `${(m.share * 100).toFixed(1)}%`]);
      log(table(['module (self time)', 'ms', 'share'], rows(p.byModule)));
      log(
        table(
          ['owner (Node internals charged to the package that called them)', 'ms', 'share'],
          rows(p.byOwner),
        ),
      );
      log(
        table(
          ['hottest functions (self)', 'module', 'ms'],
          p.topFunctions.map((f) => [f.name, f.module, f.ms.toFixed(0)]),
        ),
      );
    }
  }
}

export function targets(results: BenchResults): Target[] {
  const list: Target[] = [];
  const byN = (n: number) => results.fanout?.summary.find((s) => s.n === n);
  for (const [n, limit] of [
    [1000, 500],
    [10_000, 5000],
  ] as const) {
    const s = byN(n);
    list.push({
      name: `fan-out N=${n} (warm)`,
      value: formatMs(s?.warmMs),
      goal: `≤ ${formatMs(limit)}`,
      verdict: s && !s.deliveryOk ? 'MISS' : check(s?.warmMs, '<=', limit),
    });
  }
  const s1000 = byN(1000);
  list.push({
    name: 'fan-out N=1000 vs ceiling',
    value: s1000 ? `${s1000.vsCeiling.toFixed(2)}×` : '-',
    goal: '≤ 2×',
    verdict: check(s1000?.vsCeiling, '<=', 2),
  });
  list.push({
    name: 'fan-out N=1000 vs baseline',
    value: s1000?.vsBaseline === undefined ? '-' : `${s1000.vsBaseline.toFixed(1)}× faster`,
    goal: '≥ 10× faster',
    verdict: check(s1000?.vsBaseline, '>=', 10),
  });
  const m = results.memory;
  list.push({
    // The cold child runs exactly one invocation; the warm one runs three (warm-up, broadcast, hot broadcast).
    name: `peak RSS at N=${m?.n ?? 10_000} (one invocation, highest run)`,
    value: formatBytes(m?.maxRssCold),
    goal: '< 128 MB',
    verdict: check(m?.maxRssCold, '<', 128 * MB),
  });
  const sizes = results.coldstart?.sizes ?? [];
  for (const size of sizes)
    list.push({
      name: `bundle ${size.name}`,
      value: formatBytes(size.bytes),
      goal: '< 1 MB',
      verdict: check(size.bytes, '<', MB),
    });
  for (const row of results.coldstart?.rows ?? []) {
    if (row.name === 'node -e 0' || row.name === 'runner only') continue;
    list.push({
      name: `cold start ${row.name}`,
      value: signed(row.overBareMs),
      goal: '≤ +150 ms over bare node',
      verdict: row.errors > 0 ? 'MISS' : check(row.overBareMs, '<=', 150),
    });
  }
  const e = results.e2e;
  list.push({
    name: 'e2e p99 latency',
    value: formatMs(e?.latency.p99),
    goal: '< 100 ms',
    verdict: check(e?.latency.p99, '<', 100),
  });
  list.push({
    name: 'e2e lost',
    value: e ? String(e.lost) : '-',
    goal: '0',
    verdict: check(e?.lost, '==', 0),
  });
  for (const c of results.cos ?? [])
    list.push({
      name: `COS requests N=${c.n} (${c.message})`,
      value: String(c.total),
      goal: `≤ ${c.target}`,
      verdict: check(c.total, '<=', c.target),
    });
  return list.filter((t) => t.verdict !== 'n/a');
}

export function printGateway(g: GatewayBenchReport): void {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  log('\nGateway (stub functions; "per core" = work per CPU-second of the gateway processes)');
  log(
    table(
      ['what', 'count', 'time', 'per second', 'per core'],
      [
        [
          'client frames → transport',
          n(g.frames.count),
          `${g.frames.seconds.toFixed(2)} s`,
          n(g.frames.perSecond),
          n(g.frames.perCoreSecond),
        ],
        [
          'pushes → sockets',
          n(g.pushes.count),
          `${g.pushes.seconds.toFixed(2)} s`,
          n(g.pushes.perSecond),
          n(g.pushes.perCoreSecond),
        ],
        ...g.cluster.map((c) => [
          `pushes via node 1, ${c.nodes} node(s)`,
          n(c.pushes),
          `${c.seconds.toFixed(2)} s`,
          n(c.perSecond),
          n(c.perCoreSecond),
        ]),
      ],
    ),
  );
  log(
    `idle sockets: ${n(g.idle.sockets)} held, RSS ${g.idle.rssMB.toFixed(0)} MB; ` +
      `${g.idle.rssPerSocketKB.toFixed(1)} KB RSS and ${g.idle.heapPerSocketKB.toFixed(1)} KB heap per socket`,
  );
}
