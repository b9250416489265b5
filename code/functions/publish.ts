import { GatewayEventError, httpResponse, parseHttpEvent, type HttpResponse } from '../tencent/gateway';
import { containerFromEnv, type Container } from './container';
import { answerPublishApi, MISCONFIGURED_ANSWER } from './publish-api';
import { scfHandler } from './shell';

/** SCF function behind an API Gateway HTTP endpoint (POST /publish, POST /token): see publish-api.ts. */
export function createPublishHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'publish',
    run: (event, container) => publish(event, container),
    misconfigured: () => httpResponse(MISCONFIGURED_ANSWER.status, MISCONFIGURED_ANSWER.payload),
  });
}

async function publish(event: unknown, container: Container): Promise<HttpResponse> {
  let request;
  try {
    request = parseHttpEvent(event);
  } catch (error) {
    if (error instanceof GatewayEventError)
      return httpResponse(400, { error: 'bad_event', message: error.message });
    throw error;
  }
  const { status, payload } = await answerPublishApi(request, container);
  return httpResponse(status, payload);
}

export const main_handler = createPublishHandler(containerFromEnv);
