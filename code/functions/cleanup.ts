import { parseCloseEvent } from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, releaseEventLoop, type Container } from './container';

/**
 * SCF cleanup function: the gateway calls it when a client closes. Failures are logged, not thrown: the
 * gateway does nothing useful with an error, and the sweep removes whatever is left behind.
 */
export function createCleanupHandler(getContainer: () => Container) {
  return async (event: unknown, context?: unknown): Promise<{ errNo: number; errMsg: string }> => {
    releaseEventLoop(context);
    try {
      const request = parseCloseEvent(event);
      await getContainer().chat.disconnect(request.connectionId);
      return { errNo: 0, errMsg: 'ok' };
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', event: 'cleanup_failed', error: errorMessage(error) }));
      return { errNo: 1, errMsg: errorMessage(error) };
    }
  };
}

export const main_handler = createCleanupHandler(containerFromEnv);
