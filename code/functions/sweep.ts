import { errorMessage } from '../chat/log';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';

/** SCF timer function: removes stale connections, orphan records and expired history. */
export function createSweepHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'sweep',
    async run(_event, container) {
      try {
        return await container.chat.sweep();
      } catch (error) {
        // A timer invocation that throws is only logged by SCF; rethrow so it shows as failed in monitoring.
        container.log.error('sweep_failed', { error: errorMessage(error) });
        throw error;
      }
    },
    misconfigured: (_event, error) => {
      throw error;
    },
  });
}

export const main_handler = createSweepHandler(containerFromEnv);
