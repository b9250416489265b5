import { AwsEventError, httpApiResult, parseHttpApiEvent } from '../../aws/events';
import { answerPublishApi, MISCONFIGURED_ANSWER } from '../publish-api';
import { awsContainerFromEnv, lambdaHandler, type AwsContainer } from './shell';

/** The publish API behind an HTTP API route (payload format 2.0): POST /publish, POST /token (../publish-api.ts). */
export function createPublishHandler(getContainer: () => AwsContainer) {
  return lambdaHandler(getContainer, {
    name: 'publish',
    async run(event, container) {
      let request;
      try {
        request = parseHttpApiEvent(event);
      } catch (error) {
        if (error instanceof AwsEventError)
          return httpApiResult(400, { error: 'bad_event', message: error.message });
        throw error;
      }
      const { status, payload } = await answerPublishApi(request, container);
      return httpApiResult(status, payload);
    },
    misconfigured: () => httpApiResult(MISCONFIGURED_ANSWER.status, MISCONFIGURED_ANSWER.payload),
  });
}

export const handler = createPublishHandler(awsContainerFromEnv);
