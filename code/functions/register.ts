import {
  GatewayEventError,
  parseConnectEvent,
  registerReply,
  connectionIdIfAny,
  type RegisterReply,
} from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { containerFromEnv, releaseEventLoop, type Container } from './container';

/** SCF register function: the gateway calls it on each WebSocket handshake; errNo 0 admits the client. */
export function createRegisterHandler(getContainer: () => Container) {
  return async (event: unknown, context?: unknown): Promise<RegisterReply> => {
    releaseEventLoop(context);
    let request;
    try {
      request = parseConnectEvent(event);
    } catch (error) {
      const errNo = error instanceof GatewayEventError ? error.errNo : 100;
      return registerReply(connectionIdIfAny(event) ?? '', { ok: false, errNo, errMsg: errorMessage(error) });
    }
    let container: Container;
    try {
      container = getContainer();
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', event: 'config_invalid', error: errorMessage(error) }));
      return registerReply(request.connectionId, { ok: false, errNo: 500, errMsg: 'server misconfigured' });
    }
    return registerReply(request.connectionId, await container.chat.connect(request));
  };
}

export const main_handler = createRegisterHandler(containerFromEnv);
