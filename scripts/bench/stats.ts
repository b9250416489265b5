/** Pure helpers shared by the benchmark and the load script: statistics, targets and plain-text tables. */

/** Nearest-rank percentile (p in 0..100) of unsorted numbers; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** A positive whole number from the environment, or `fallback` when the variable is unset or empty. */
export function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** COS list pages hold at most 1000 keys: a broadcast may cost the sender lookup, the history write and one list per page. */
export function cosTarget(roomSize: number): number {
  return 2 + Math.ceil(roomSize / 1000);
}

export type Verdict = 'PASS' | 'MISS' | 'n/a';

export interface Target {
  name: string;
  /** Human-readable figure, e.g. "412 ms". */
  value: string;
  goal: string;
  verdict: Verdict;
}

/** PASS when `value` satisfies `op limit`; n/a when the value was not measured. */
export function check(value: number | undefined, op: '<' | '<=' | '>=' | '==', limit: number): Verdict {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const ok =
    op === '<'
      ? value < limit
      : op === '<='
        ? value <= limit
        : op === '>='
          ? value >= limit
          : value === limit;
  return ok ? 'PASS' : 'MISS';
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '-';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || Number.isNaN(bytes)) return '-';
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** A table with a header row, columns padded to the widest cell; numbers-looking cells right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = /^[-+~≈]?[\d.,]+( ?[a-zA-Z%×µ/]+)?$/;
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric.test(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Count and the usual latency percentiles of a sample. */
export function summarize(values: readonly number[]): {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b), -Infinity),
  };
}
