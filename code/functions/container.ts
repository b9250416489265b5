import { loadConfig, type Config } from '../config';
import { createObjectStore } from '../cos/object-store';
import { createCosRegistry } from '../registry/cos-registry';
import { createCosHistory } from '../history/cos-history';
import { createHttpPushClient } from '../push/http-push-client';
import { createChatService, type ChatService } from '../chat/chat-service';
import { createRateLimiter } from '../chat/rate-limiter';
import { createLogger, type Logger } from '../chat/log';

/** Everything one SCF container needs, built once from validated configuration and reused while warm. */
export interface Container {
  config: Config;
  chat: ChatService;
  log: Logger;
}

export function createContainer(config: Config, log: Logger = createLogger()): Container {
  const store = createObjectStore(config.cos);
  const chat = createChatService({
    registry: createCosRegistry(store, Date.now),
    history: createCosHistory(
      store,
      { limit: config.limits.historyLimit, maxAgeMs: config.limits.historyMaxAgeMs },
      Date.now,
      log,
    ),
    push: createHttpPushClient(config.push),
    rateLimiter: createRateLimiter(config.limits.ratePerSecond, config.limits.rateBurst),
    settings: {
      limits: config.limits,
      defaultRoom: config.defaultRoom,
      authSecret: config.authSecret,
      pushConcurrency: config.push.concurrency,
      broadcastBudgetMs: config.push.budgetMs,
      // A registry write lands within the COS timeout (retries included); a second more for clock skew.
      rosterOverlapMs: config.cos.timeoutMs + 1000,
    },
    log,
  });
  return { config, chat, log };
}

let container: Container | undefined;

/** The container of this SCF instance, from process.env. Throws ConfigError (naming the variable) if invalid. */
export function containerFromEnv(): Container {
  container ??= createContainer(loadConfig(process.env));
  return container;
}
