import { sweepOrThrow } from '../uses';
import { awsContainerFromEnv, lambdaHandler, type AwsContainer } from './shell';

/** Scheduled (EventBridge rate): removes stale connections, orphan records and expired history. */
export function createSweepHandler(getContainer: () => AwsContainer) {
  return lambdaHandler(getContainer, {
    name: 'sweep',
    run: (_event, container) => sweepOrThrow(container),
    misconfigured: (_event, error) => {
      throw error;
    },
  });
}

export const handler = createSweepHandler(awsContainerFromEnv);
