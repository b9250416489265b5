/**
 * Counters in the Prometheus text format (served on the private listener at /metrics). Hand-written: a few
 * counters and one histogram do not justify a dependency in the gateway bundle.
 */

type Labels = Record<string, string>;

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}

export interface Metrics {
  inc(name: CounterName, labels?: Labels, by?: number): void;
  observeInvocation(fn: string, outcome: 'ok' | 'error' | 'timeout', seconds: number): void;
  /** Counter value (for tests and the dev stack's summaries). */
  count(name: CounterName, labels?: Labels): number;
  render(gauges: Record<GaugeName, number>): string;
}

export type CounterName =
  | 'connections_total'
  | 'frames_total'
  | 'frame_bytes_total'
  | 'pushes_total'
  | 'replies_total'
  | 'refusals_total'
  | 'closes_total'
  | 'cleanups_total';

export type GaugeName = 'connections' | 'inflight_invocations' | 'queued_frames' | 'draining';

const HELP: Record<CounterName | GaugeName, string> = {
  connections_total: 'client connections admitted (WebSocket and SSE)',
  frames_total: 'client frames received',
  frame_bytes_total: 'bytes of client frames received',
  pushes_total: 'push requests by outcome',
  replies_total: 'frames transport answered with for their sender, by outcome',
  refusals_total: 'requests and frames refused, by reason',
  closes_total: 'connections closed, by cause',
  cleanups_total: 'cleanup invocations by outcome',
  connections: 'connections held now',
  inflight_invocations: 'function invocations running now',
  queued_frames: 'client frames waiting for the rate limit or an invocation slot',
  draining: '1 while the node drains for shutdown',
};

export function createMetrics(prefix = 'wschat_gateway_'): Metrics {
  const counters = new Map<CounterName, Map<string, number>>();
  const histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();
  return {
    inc(name, labels = {}, by = 1) {
      const series = counters.get(name) ?? new Map<string, number>();
      counters.set(name, series);
      const key = labelText(labels);
      series.set(key, (series.get(key) ?? 0) + by);
    },
    count(name, labels = {}) {
      return counters.get(name)?.get(labelText(labels)) ?? 0;
    },
    observeInvocation(fn, outcome, seconds) {
      const key = labelText({ function: fn, outcome });
      const entry = histogram.get(key) ?? { buckets: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      histogram.set(key, entry);
      LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
        if (seconds <= bound) entry.buckets[i]! += 1;
      });
      entry.sum += seconds;
      entry.count += 1;
    },
    render(gauges) {
      const lines: string[] = [];
      for (const [name, value] of Object.entries(gauges) as Array<[GaugeName, number]>) {
        lines.push(
          `# HELP ${prefix}${name} ${HELP[name]}`,
          `# TYPE ${prefix}${name} gauge`,
          `${prefix}${name} ${value}`,
        );
      }
      for (const [name, series] of counters) {
        lines.push(`# HELP ${prefix}${name} ${HELP[name]}`, `# TYPE ${prefix}${name} counter`);
        for (const [labels, value] of series) lines.push(`${prefix}${name}${labels} ${value}`);
      }
      const metric = `${prefix}invocation_duration_seconds`;
      lines.push(`# HELP ${metric} function invocation latency`, `# TYPE ${metric} histogram`);
      for (const [labels, entry] of histogram) {
        const inner = labels.slice(1, -1);
        LATENCY_BUCKETS_SECONDS.forEach((bound, i) =>
          lines.push(`${metric}_bucket{${inner},le="${bound}"} ${entry.buckets[i]}`),
        );
        lines.push(`${metric}_bucket{${inner},le="+Inf"} ${entry.count}`);
        lines.push(`${metric}_sum${labels} ${entry.sum}`, `${metric}_count${labels} ${entry.count}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
