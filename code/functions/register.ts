import {
  GatewayEventError,
  parseConnectEvent,
  registerReply,
  connectionIdIfAny,
  ERR_NO,
} from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';

/** SCF register function: the gateway calls it on each WebSocket handshake; errNo 0 admits the client. */
export function createRegisterHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'register',
    async run(event, container) {
      let request;
      try {
        request = parseConnectEvent(event);
      } catch (error) {
        const errNo = error instanceof GatewayEventError ? error.errNo : ERR_NO.badEvent;
        return registerReply(connectionIdIfAny(event) ?? '', {
          ok: false,
          errNo,
          errMsg: errorMessage(error),
        });
      }
      return registerReply(request.connectionId, await container.chat.connect(request));
    },
    misconfigured: (event) =>
      registerReply(connectionIdIfAny(event) ?? '', {
        ok: false,
        errNo: ERR_NO.misconfigured,
        errMsg: 'server misconfigured',
      }),
  });
}

export const main_handler = createRegisterHandler(containerFromEnv);
