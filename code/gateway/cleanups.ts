import type { GatewayEvent } from './hub';
import type { Invocations } from './invocations';
import { shortId, type GatewayLog } from './log';
import type { Metrics } from './metrics';

/**
 * Cleanup on every close: queued, a bounded number at a time (a mass disconnect must not become thousands of
 * concurrent invocations that time out), each retried once. Whatever still fails, the sweep removes.
 */

export interface CleanupOptions {
  invocations: Invocations;
  /** The platform's close event (platform.ts). */
  closeEvent: (connectionId: string, silent: boolean, context: string | undefined) => unknown;
  concurrency: number;
  timeoutMs: number;
  log: GatewayLog;
  metrics: Metrics;
  emit: (event: GatewayEvent) => void;
  onIdle: () => void;
}

/**
 * A closed connection waiting for its cleanup; `silent`: none of its frames reached transport; `context`: the
 * record the gateway held for it (Connection.context).
 */
interface PendingCleanup {
  connectionId: string;
  silent: boolean;
  context?: string;
}

export function createCleanupQueue(options: CleanupOptions) {
  const { invocations, log, metrics, emit } = options;
  const queue: PendingCleanup[] = [];
  let running = 0;
  let stopped = false;

  async function run({ connectionId, silent, context }: PendingCleanup): Promise<void> {
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        await invocations.invoke(
          'cleanup',
          options.closeEvent(connectionId, silent, context),
          options.timeoutMs,
          connectionId,
        );
        metrics.inc('cleanups_total', { outcome: 'ok' });
        emit({ kind: 'cleanup', connectionId, ok: true });
        return;
      } catch {
        // One retry: a mass disconnect can time a few out; whatever is left, the sweep removes.
      }
    }
    metrics.inc('cleanups_total', { outcome: 'failed' });
    log.warn('cleanup_left_to_sweep', { conn: shortId(connectionId) });
    emit({ kind: 'cleanup', connectionId, ok: false });
  }

  function pump(): void {
    while (running < options.concurrency && queue.length > 0) {
      const next = queue.shift()!;
      running += 1;
      void run(next).finally(() => {
        running -= 1;
        pump();
        options.onIdle();
      });
    }
  }

  return {
    /** See PendingCleanup. */
    add(connectionId: string, silent: boolean, context?: string): void {
      if (stopped) return;
      queue.push({ connectionId, silent, context });
      pump();
    },
    idle: (): boolean => running === 0 && queue.length === 0,
    /** A crash drill: nothing more is cleaned up (the sweep's job, as after a real crash). */
    stop(): void {
      stopped = true;
      queue.length = 0;
    },
  };
}
