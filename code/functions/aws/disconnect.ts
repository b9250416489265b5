import { failedResult, okResult, parseCloseEvent } from '../../aws/events';
import { errorMessage } from '../../chat/log';
import { awsContainerFromEnv, lambdaHandler, type AwsContainer } from './shell';

/**
 * $disconnect: best effort, as AWS documents it ("$disconnect is a best-effort event"); what it misses, the
 * sweep removes. Failures are logged, not thrown.
 */
export function createDisconnectHandler(getContainer: () => AwsContainer) {
  return lambdaHandler(getContainer, {
    name: 'disconnect',
    async run(event, container) {
      try {
        await container.chat.disconnect(parseCloseEvent(event));
        return okResult();
      } catch (error) {
        container.log.error('cleanup_failed', { error: errorMessage(error) });
        return failedResult(500, errorMessage(error));
      }
    },
    misconfigured: () => failedResult(500, 'server misconfigured'),
  });
}

export const handler = createDisconnectHandler(awsContainerFromEnv);
