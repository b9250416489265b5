import type { ChatLimits } from '../config';
import type { ConnectionRegistry } from '../registry/registry';
import type { HistoryStore } from '../history/history';
import type { PushClient } from '../push/push-client';
import { errorMessage, type Logger } from './log';
import type { MessageIdSource } from './message-id';
import type { RateLimiter } from './rate-limiter';

export interface ChatSettings {
  limits: ChatLimits;
  defaultRoom: string;
  authSecret?: string;
  /** Key of the identity tags (code/chat/identity.ts); from GATEWAY_SECRET in the functions. */
  tagKey?: string;
  pushConcurrency: number;
  /** How long one invocation may spend on pushes; keep it below the function timeout. */
  broadcastBudgetMs: number;
}

/** The ports and settings of one chat service. */
export interface ChatPorts {
  registry: ConnectionRegistry;
  history: HistoryStore;
  push: PushClient;
  rateLimiter: RateLimiter;
  settings: ChatSettings;
  log: Logger;
}

export interface ChatDeps extends ChatPorts {
  clock?: () => number;
  /** Random lowercase hex ending each message ID; defaults to 4 random bytes. */
  randomSuffix?: () => string;
}

/** What every use case of the core works with: the ports, the settings, the clock and message IDs. */
export interface ChatContext extends ChatPorts {
  clock: () => number;
  messageIds: MessageIdSource;
  /**
   * Epoch ms (real time, not `clock`) after which no push starts, so the function returns before it times out.
   */
  pushDeadline(): number;
  /** Sends one frame to one connection; an undelivered reply is logged, not thrown. */
  reply(connectionId: string, frame: string): Promise<void>;
  /** Like `reply`, for error frames: even a failing push is only logged. */
  replyError(connectionId: string, frame: string): Promise<void>;
}

export function createContext(deps: ChatDeps, clock: () => number, messageIds: MessageIdSource): ChatContext {
  const { push, log, settings } = deps;
  const pushDeadline = () => Date.now() + settings.broadcastBudgetMs;
  async function reply(connectionId: string, frame: string): Promise<void> {
    const outcome = await push.send(connectionId, frame, { deadline: pushDeadline() });
    if (outcome !== 'delivered') log.warn('reply_not_delivered', { connection: connectionId, outcome });
  }
  return {
    registry: deps.registry,
    history: deps.history,
    push,
    rateLimiter: deps.rateLimiter,
    settings,
    log,
    clock,
    messageIds,
    pushDeadline,
    reply,
    replyError: (connectionId, frame) =>
      reply(connectionId, frame).catch((error) =>
        log.error('error_reply_failed', { error: errorMessage(error) }),
      ),
  };
}
