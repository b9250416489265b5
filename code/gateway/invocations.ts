import { InvocationError, type FunctionName, type Invoker } from './invoker';
import { shortId, type GatewayLog } from './log';
import type { Metrics } from './metrics';
import type { GatewayEvent } from './hub';

/**
 * Every function call the gateway makes goes through here: a global bound on calls in flight (a burst across
 * many connections queues instead of piling up), a timeout, latency metrics and one log line per failure.
 */

export interface InvocationsOptions {
  invoker: Invoker;
  maxInflight: number;
  log: GatewayLog;
  metrics: Metrics;
  emit: (event: GatewayEvent) => void;
  /** Called whenever a call ends: the hub checks there whether it has settled. */
  onIdle: () => void;
}

export function createInvocations(options: InvocationsOptions) {
  const { invoker, log, metrics, emit } = options;
  let inflight = 0;
  const waiting: Array<() => void> = [];
  const running = new Set<Promise<unknown>>();

  async function slot<T>(run: () => Promise<T>): Promise<T> {
    if (inflight >= options.maxInflight) await new Promise<void>((resolve) => waiting.push(resolve));
    inflight += 1;
    try {
      return await run();
    } finally {
      inflight -= 1;
      waiting.shift()?.();
      options.onIdle();
    }
  }

  function invoke(
    fn: FunctionName,
    event: unknown,
    timeoutMs: number,
    connectionId?: string,
  ): Promise<unknown> {
    const call = slot(async () => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new InvocationError(`${fn} timed out after ${timeoutMs} ms`, 'timeout')),
          timeoutMs,
        );
      });
      try {
        const result = await Promise.race([invoker.invoke(fn, event, timeoutMs), timeout]);
        metrics.observeInvocation(fn, 'ok', (Date.now() - started) / 1000);
        log.debug('invoked', { fn, conn: connectionId && shortId(connectionId), ms: Date.now() - started });
        return result;
      } catch (error) {
        const kind = error instanceof InvocationError ? error.kind : 'failed';
        metrics.observeInvocation(
          fn,
          kind === 'timeout' ? 'timeout' : 'error',
          (Date.now() - started) / 1000,
        );
        const detail = error instanceof Error ? error.message : String(error);
        log.error('invoke_failed', { fn, conn: connectionId && shortId(connectionId), error: detail });
        emit({ kind: 'function-error', connectionId, fn, detail });
        throw error;
      } finally {
        clearTimeout(timer);
      }
    });
    running.add(call);
    const forget = () => running.delete(call);
    call.then(forget, forget);
    return call;
  }

  return {
    invoke,
    inflight: (): number => inflight,
    idle: (): boolean => inflight === 0 && waiting.length === 0,
    /** Resolves when every call running now has ended (drain). */
    finished: (): Promise<unknown> => Promise.allSettled([...running]),
  };
}

export type Invocations = ReturnType<typeof createInvocations>;
