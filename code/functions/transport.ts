import { connectionIdIfAny, functionReply, parseFrameEvent, transportReply } from '../tencent/gateway';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';
import { receiveOrReject } from './uses';

/**
 * SCF transport function: one call per client frame. It never throws: a failed invocation makes the gateway drop
 * the sender, so every failure becomes an error envelope to the sender instead. Replies to the sender go back
 * with the answer when the event says our gateway takes them there; otherwise they are pushed.
 */
export function createTransportHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'transport',
    async run(event, container) {
      return transportReply(await receiveOrReject(container, event, parseFrameEvent, connectionIdIfAny));
    },
    // Without configuration there is no push URL to answer on; the log is all we have.
    misconfigured: () => functionReply('misconfigured', 'server misconfigured'),
  });
}

export const main_handler = createTransportHandler(containerFromEnv);
