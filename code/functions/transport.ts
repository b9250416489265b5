import { connectionIdIfAny, functionReply, parseFrameEvent } from '../tencent/gateway';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';
import { receiveOrReject } from './uses';

/**
 * SCF transport function: one call per client frame. It never throws: a failed invocation makes the gateway drop
 * the sender, so every failure becomes an error envelope pushed to the sender instead.
 */
export function createTransportHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'transport',
    async run(event, container) {
      await receiveOrReject(container, event, parseFrameEvent, connectionIdIfAny);
      return functionReply('ok');
    },
    // Without configuration there is no push URL to answer on; the log is all we have.
    misconfigured: () => functionReply('misconfigured', 'server misconfigured'),
  });
}

export const main_handler = createTransportHandler(containerFromEnv);
