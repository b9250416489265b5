import { connectionIdIfAny, functionReply, parseFrameEvent } from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';

/**
 * SCF transport function: one call per client frame. It never throws: a failed invocation makes the gateway drop
 * the sender, so every failure becomes an error envelope pushed to the sender instead.
 */
export function createTransportHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'transport',
    async run(event, container) {
      try {
        await container.chat.receive(parseFrameEvent(event));
      } catch (error) {
        const connectionId = connectionIdIfAny(event);
        container.log.warn('bad_event', { connection: connectionId, error: errorMessage(error) });
        if (connectionId !== undefined) await container.chat.rejectEvent(connectionId, errorMessage(error));
      }
      return functionReply('ok');
    },
    // Without configuration there is no push URL to answer on; the log is all we have.
    misconfigured: () => functionReply('misconfigured', 'server misconfigured'),
  });
}

export const main_handler = createTransportHandler(containerFromEnv);
