import type { ChatConfig } from '../config';
import type { ObjectStore } from '../cos/object-store';
import { createCosRegistry } from '../registry/cos-registry';
import { createCosHistory } from '../history/cos-history';
import type { PushClient } from '../push/push-client';
import { createChatService, type ChatService } from '../chat/chat-service';
import { createRateLimiter } from '../chat/rate-limiter';
import type { Logger } from '../chat/log';

/*
 * Its own file, free of SDK imports, so that each platform's bundle carries only its own SDK (the SCF container
 * adds COS, code/functions/aws/container.ts adds S3 and the management API).
 */

/** The chat on a store and a push path: the one assembly both platforms use (AWS: code/functions/aws). */
export function assembleChat(
  store: ObjectStore,
  push: PushClient,
  config: ChatConfig,
  log: Logger,
  options: {
    /** The identity tags' key (code/chat/identity.ts); without one a tag is an unkeyed hash of the client's key. */
    tagKey?: string;
    /** Longer than a store write can take plus clock skew (code/chat/roster-cache.ts). */
    rosterOverlapMs: number;
  },
): ChatService {
  return createChatService({
    registry: createCosRegistry(store),
    history: createCosHistory(
      store,
      { limit: config.limits.historyLimit, maxAgeMs: config.limits.historyMaxAgeMs },
      Date.now,
      log,
    ),
    push,
    rateLimiter: createRateLimiter(config.limits.ratePerSecond, config.limits.rateBurst),
    settings: {
      limits: config.limits,
      defaultRoom: config.defaultRoom,
      authSecret: config.authSecret,
      tagKey: options.tagKey,
      rosterOverlapMs: options.rosterOverlapMs,
      pushConcurrency: config.push.concurrency,
      broadcastBudgetMs: config.push.budgetMs,
    },
    log,
  });
}
