import { errorMessage } from '../chat/log';
import type { SweepReport } from '../chat/chat-service';
import { containerFromEnv, releaseEventLoop, type Container } from './container';

/** SCF timer function: removes stale connections, orphan records and expired history. */
export function createSweepHandler(getContainer: () => Container) {
  return async (_event: unknown, context?: unknown): Promise<SweepReport> => {
    releaseEventLoop(context);
    try {
      return await getContainer().chat.sweep();
    } catch (error) {
      // A timer invocation that throws is only logged by SCF; rethrow so it shows as failed in monitoring.
      console.error(JSON.stringify({ level: 'error', event: 'sweep_failed', error: errorMessage(error) }));
      throw error;
    }
  };
}

export const main_handler = createSweepHandler(containerFromEnv);
