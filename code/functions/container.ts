import { loadConfig, type ChatConfig, type Config } from '../config';
import { createObjectStore } from '../cos/object-store';
import { createHttpPushClient } from '../push/http-push-client';
import type { ChatService } from '../chat/chat-service';
import { tagKeyFrom } from '../chat/identity';
import { createLogger, type Logger } from '../chat/log';
import { assembleChat } from './assemble';

/** Everything one function container needs, built once from validated configuration and reused while warm. */
export interface Container<C extends ChatConfig = Config> {
  config: C;
  chat: ChatService;
  log: Logger;
}

export function createContainer(config: Config, log: Logger = createLogger()): Container {
  // Identity tags are keyed by a secret every function has; see code/chat/identity.ts.
  const tagKey = tagKeyFrom(config.push.secret);
  const chat = assembleChat(createObjectStore(config.cos), createHttpPushClient(config.push), config, log, {
    tagKey,
    // A registry write lands within the COS timeout (retries included); a second more for clock skew.
    rosterOverlapMs: config.cos.timeoutMs + 1000,
  });
  return { config, chat, log };
}

let container: Container | undefined;

/** The container of this SCF instance, from process.env. Throws ConfigError (naming the variable) if invalid. */
export function containerFromEnv(): Container {
  container ??= createContainer(loadConfig(process.env));
  return container;
}
