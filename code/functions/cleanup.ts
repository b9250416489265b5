import { functionReply, parseCloseEvent } from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';

/**
 * SCF cleanup function: the gateway calls it when a connection ends. Failures are logged, not thrown: the gateway
 * retries once, and the sweep removes whatever is left behind.
 */
export function createCleanupHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'cleanup',
    async run(event, container) {
      try {
        const request = parseCloseEvent(event);
        await container.chat.disconnect(request);
        return functionReply('ok');
      } catch (error) {
        container.log.error('cleanup_failed', { error: errorMessage(error) });
        return functionReply('failed', errorMessage(error));
      }
    },
    misconfigured: () => functionReply('misconfigured', 'server misconfigured'),
  });
}

export const main_handler = createCleanupHandler(containerFromEnv);
