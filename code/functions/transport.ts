import { connectionIdIfAny, parseFrameEvent } from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, releaseEventLoop, type Container } from './container';

/**
 * SCF transport function: one call per client frame. It never throws: a non-200 answer makes the gateway drop
 * the sender, so every failure becomes an error envelope pushed to the sender instead.
 */
export function createTransportHandler(getContainer: () => Container) {
  return async (event: unknown, context?: unknown): Promise<{ errNo: number; errMsg: string }> => {
    releaseEventLoop(context);
    let container: Container;
    try {
      container = getContainer();
    } catch (error) {
      // Without configuration there is no push URL to answer on; the log is all we have.
      console.error(JSON.stringify({ level: 'error', event: 'config_invalid', error: errorMessage(error) }));
      return { errNo: 500, errMsg: 'server misconfigured' };
    }
    try {
      await container.chat.receive(parseFrameEvent(event));
    } catch (error) {
      const connectionId = connectionIdIfAny(event);
      container.log.warn('bad_event', { connection: connectionId, error: errorMessage(error) });
      if (connectionId !== undefined) await container.chat.rejectEvent(connectionId, errorMessage(error));
    }
    return { errNo: 0, errMsg: 'ok' };
  };
}

export const main_handler = createTransportHandler(containerFromEnv);
