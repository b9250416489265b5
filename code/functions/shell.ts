import { createLogger, errorMessage, type Logger } from '../chat/log';
import { functionUrlReply, unwrapFunctionUrlEvent, type FunctionUrlReply } from '../tencent/function-url';
import { functionReply } from '../tencent/gateway';
import type { Container } from './container';

/**
 * The one shell around all five SCF entries:
 *   - SCF waits for an empty event loop unless told not to; keep-alive sockets would hold every invocation open;
 *   - the container (configuration, ports) is built once; when configuration is invalid, the failure is logged
 *     through a logger that needs no configuration, and the function answers its own "misconfigured" reply;
 *   - an invocation from our gateway through a function URL arrives wrapped and signed: it is verified and
 *     unwrapped here, and the reply wrapped back, so the handlers only ever see plain Tencent events.
 */

export interface HandlerSpec<R, C = Container> {
  name: string;
  run(event: unknown, container: C): Promise<R>;
  /** The reply when the container cannot be built; may throw (the sweep does, to show as failed). */
  misconfigured(event: unknown, error: unknown): R;
}

export type ScfHandler<R> = (event: unknown, context?: unknown) => Promise<R | FunctionUrlReply>;

/** SCF passes a context; with keep-alive sockets open, do not wait for an empty event loop. */
export function releaseEventLoop(context: unknown): void {
  if (typeof context === 'object' && context !== null) {
    (context as { callbackWaitsForEmptyEventLoop?: boolean }).callbackWaitsForEmptyEventLoop = false;
  }
}

/** The container, or the error that kept it from being built, logged (the caller answers "misconfigured"). */
export function containerOrLog<C>(
  getContainer: () => C,
  name: string,
  fallbackLog: Logger,
): { container: C } | { error: unknown } {
  try {
    return { container: getContainer() };
  } catch (error) {
    fallbackLog.error('config_invalid', { function: name, error: errorMessage(error) });
    return { error };
  }
}

/** stderr: SCF and Lambda ship both streams to their logs, and a bundle run by hand keeps stdout for the reply. */
export const stderrLog = (): Logger => createLogger((line) => console.error(line));

export function scfHandler<R>(
  getContainer: () => Container,
  spec: HandlerSpec<R>,
  fallbackLog: Logger = stderrLog(),
): ScfHandler<R> {
  return async (event, context) => {
    releaseEventLoop(context);
    const built = containerOrLog(getContainer, spec.name, fallbackLog);
    if ('error' in built) {
      const reply = spec.misconfigured(event, built.error);
      return unwrapFunctionUrlEvent(event, undefined).kind === 'plain' ? reply : functionUrlReply(200, reply);
    }
    const { container } = built;
    const unwrapped = unwrapFunctionUrlEvent(event, container.config.push.secret);
    if (unwrapped.kind === 'refused') {
      container.log.warn('invocation_refused', { function: spec.name, reason: unwrapped.reason });
      return functionUrlReply(401, functionReply('invocationRefused', 'invocation refused'));
    }
    const reply = await spec.run(unwrapped.event, container);
    return unwrapped.kind === 'signed' ? functionUrlReply(200, reply) : reply;
  };
}
