import { AwsEventError, connectResult, parseConnectEvent } from '../../aws/events';
import { errorMessage } from '../../chat/log';
import { awsContainerFromEnv, lambdaHandler, type AwsContainer } from './shell';

/** $connect: a 2xx admits the client (with the chosen sub-protocol echoed); any other status refuses it. */
export function createConnectHandler(getContainer: () => AwsContainer) {
  return lambdaHandler(getContainer, {
    name: 'connect',
    async run(event, container) {
      let request;
      try {
        request = parseConnectEvent(event);
      } catch (error) {
        return connectResult(error instanceof AwsEventError ? error : new AwsEventError(errorMessage(error)));
      }
      return connectResult(await container.chat.connect(request));
    },
    misconfigured: () => connectResult(new AwsEventError('server misconfigured', 500)),
  });
}

export const handler = createConnectHandler(awsContainerFromEnv);
