/**
 * Messages between the benchmark (parent) and `runner.ts` (a child process standing in for one SCF container).
 * Types only, so that the runner stays free of anything but Node built-ins until a job asks for more.
 */

export interface ProcessFigures {
  /** process.memoryUsage().rss, bytes. */
  rss: number;
  heapUsed: number;
  /** process.resourceUsage().maxRSS, converted to bytes: the peak since the process started. */
  maxRss: number;
  /** CPU time of the whole process so far, ms (user + system). */
  cpuMs: number;
}

export interface MemoryPeak {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface PushTarget {
  url: string;
  /** secConnectionIDs to push to, one request each. */
  ids: string[];
  /** The `data` of each push (the same for all, as in a broadcast). */
  data: string;
}

export type ParentMessage =
  /** Require the SCF bundle (once) and answer `ready`. */
  | { op: 'load'; bundle: string }
  /** Invoke the loaded bundle's main_handler and answer `invoked`. */
  | { op: 'invoke'; event: unknown; profileFile?: string }
  /** The ceiling: a minimal keep-alive http.request client, `concurrency` requests in flight. */
  | { op: 'ceiling'; target: PushTarget; concurrency: number }
  /** The reference algorithm: one COS list page, then sequential POSTs without keep-alive. */
  | {
      op: 'baseline';
      cos: { endpoint: string; bucket: string; region: string; prefix: string };
      senderId: string;
      url: string;
      data: string;
      capMs: number;
    }
  | { op: 'exit' };

export type ChildMessage =
  | ({ op: 'started' } & ProcessFigures)
  | ({ op: 'ready'; requireMs: number } & ProcessFigures)
  | ({
      op: 'invoked';
      ms: number;
      invocationCpuMs: number;
      result: unknown;
      error?: string;
      /** Highest values of process.memoryUsage() sampled every 25 ms during the invocation, bytes. */
      peak: MemoryPeak;
    } & ProcessFigures)
  | ({ op: 'pushed'; ms: number; invocationCpuMs: number; ok: number; failed: number } & ProcessFigures)
  | ({
      op: 'baselined';
      ms: number;
      invocationCpuMs: number;
      listed: number;
      pushed: number;
      capped: boolean;
    } & ProcessFigures)
  | ({ op: 'exiting' } & ProcessFigures)
  | { op: 'failed'; error: string };

/** One-shot job for the cold-start measurement: passed as JSON in BENCH_RUNNER_JOB, no IPC channel. */
export interface ColdStartJob {
  bundle: string;
  event: unknown;
}

/** The runner's last line on stderr in one-shot mode starts with this marker, then JSON. */
export const RESULT_MARKER = '@@bench ';

export interface ColdStartResult {
  requireMs: number;
  invokeMs: number;
  result: unknown;
  error?: string;
  maxRss: number;
}
