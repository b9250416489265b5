import { connectionIdIfAny, failedResult, okResult, parseFrameEvent } from '../../aws/events';
import { receiveOrReject } from '../uses';
import { awsContainerFromEnv, lambdaHandler, type AwsContainer } from './shell';

/**
 * $default: one call per client frame. It never throws: every failure becomes an error envelope pushed to the
 * sender, like the SCF transport function (../transport.ts).
 */
export function createDefaultHandler(getContainer: () => AwsContainer) {
  return lambdaHandler(getContainer, {
    name: 'default',
    async run(event, container) {
      await receiveOrReject(container, event, parseFrameEvent, connectionIdIfAny);
      return okResult();
    },
    misconfigured: () => failedResult(500, 'server misconfigured'),
  });
}

export const handler = createDefaultHandler(awsContainerFromEnv);
