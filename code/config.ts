import { ROOM_NAME } from './chat/names';
// Short local names for the shared environment readers (code/util/env.ts), which the gateway uses too.
import {
  ConfigError,
  gatewaySecretEnv,
  httpUrlEnv,
  integerEnv as integer,
  readEnv as read,
  requiredEnv as required,
  type Env,
} from './util/env';

/**
 * Environment → validated configuration, read once per container. A missing or malformed variable fails at
 * cold start with a message that names it, instead of on the thousandth message.
 */

export interface CosSettings {
  bucket: string;
  region: string;
  /** Set for a local COS-compatible store, e.g. http://127.0.0.1:3000/_cos. Unset in Tencent Cloud. */
  endpoint?: string;
  /** Every object this app writes lives under this prefix: the bucket may hold other data. */
  keyPrefix: string;
  secretId: string;
  secretKey: string;
  /** Present with the temporary keys of an SCF execution role. */
  sessionToken?: string;
  timeoutMs: number;
}

export interface PushSettings {
  url: string;
  /** Shared with the gateway: every push is signed with it (code/util/signature.ts). */
  secret: string;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  /** How long one invocation may spend pushing; keep it below the function timeout. */
  budgetMs: number;
}

export interface ChatLimits {
  maxMessageBytes: number;
  maxNickLength: number;
  historyLimit: number;
  historyMaxAgeMs: number;
  /** A connection not seen for this long is treated as gone (skipped and pruned). */
  connectionTtlMs: number;
  /** A just-registered connection reported gone is not pruned within this time (handshake still in flight). */
  handshakeGraceMs: number;
  /** Token bucket per connection, per warm container: sustained rate and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /**
   * Presence lines (join, leave, nick) are pushed only to rooms with at most this many online; 0 turns them off.
   * Each one is a push to every member, so in a large channel they would cost N² pushes as people come and go.
   * 100 by default: a crowd of 1,000 forming then costs about 2.4 pushes per join instead of 26 (docs/benchmarks.md).
   */
  presenceMaxOnline: number;
}

export interface Config {
  cos: CosSettings;
  push: PushSettings;
  limits: ChatLimits;
  defaultRoom: string;
  /** When set, register admits only clients with a valid signed token. */
  authSecret?: string;
  /** Bearer token for the HTTP publish API; the API is closed when unset. */
  publishToken?: string;
}

/**
 * Every variable loadConfig reads: the one list that `npm start` passes through to the functions and that
 * .env.example documents (test/unit/config.test.ts checks both against what loadConfig really reads).
 */
export const FUNCTION_ENV_VARS = [
  'COS_BUCKET',
  'COS_REGION',
  'COS_ENDPOINT',
  'COS_KEY_PREFIX',
  'COS_TIMEOUT_MS',
  'COS_SECRET_ID',
  'COS_SECRET_KEY',
  'TENCENTCLOUD_SECRETID',
  'TENCENTCLOUD_SECRETKEY',
  'TENCENTCLOUD_SESSIONTOKEN',
  'PUSH_URL',
  'GATEWAY_SECRET',
  'PUSH_CONCURRENCY',
  'PUSH_TIMEOUT_MS',
  'PUSH_RETRIES',
  'PUSH_BUDGET_MS',
  'DEFAULT_ROOM',
  'MAX_MESSAGE_BYTES',
  'MAX_NICK_LENGTH',
  'HISTORY_LIMIT',
  'HISTORY_MAX_AGE_SECONDS',
  'CONNECTION_TTL_SECONDS',
  'HANDSHAKE_GRACE_MS',
  'RATE_LIMIT_PER_SECOND',
  'RATE_LIMIT_BURST',
  'PRESENCE_MAX_ONLINE',
  'AUTH_SECRET',
  'PUBLISH_TOKEN',
] as const;

export { ConfigError };

export type CosKeys = Pick<CosSettings, 'secretId' | 'secretKey' | 'sessionToken'>;

const secretIdIn = (env: Env) => read(env, 'TENCENTCLOUD_SECRETID') ?? read(env, 'COS_SECRET_ID');

/**
 * The COS keys in the environment now, or undefined. An SCF execution role injects temporary keys under the
 * TENCENTCLOUD_* names; explicit keys are for other hosts. The object store calls this before every request:
 * temporary keys may be replaced inside a warm container, so they must not be read once per container.
 */
export function environmentKeys(env: Env): CosKeys | undefined {
  const secretId = secretIdIn(env);
  const secretKey = read(env, 'TENCENTCLOUD_SECRETKEY') ?? read(env, 'COS_SECRET_KEY');
  if (!secretId || !secretKey) return undefined;
  return { secretId, secretKey, sessionToken: read(env, 'TENCENTCLOUD_SESSIONTOKEN') };
}

/** The COS keys a container starts with: the environment's, placeholders for the local store, or a clear error. */
export function credentials(env: Env, local: boolean): CosKeys {
  const keys = environmentKeys(env);
  if (keys) return keys;
  const secretId = secretIdIn(env);
  // The local store checks no signature, but the SDK refuses to sign without keys.
  if (local) return { secretId: 'local', secretKey: 'local' };
  const missing = secretId ? 'TENCENTCLOUD_SECRETKEY' : 'TENCENTCLOUD_SECRETID';
  throw new ConfigError(
    `Missing environment variable ${missing}: give the function an execution role with COS access ` +
      '(SCF then sets TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN), or set COS_SECRET_ID and COS_SECRET_KEY',
  );
}

/** The chat limits of `env`, with their defaults; also read by the deploy for the web page's config.json. */
export function loadLimits(env: Env): ChatLimits {
  return {
    maxMessageBytes: integer(env, 'MAX_MESSAGE_BYTES', 4096, 16, 256 * 1024),
    maxNickLength: integer(env, 'MAX_NICK_LENGTH', 24, 2, 64),
    historyLimit: integer(env, 'HISTORY_LIMIT', 100, 0, 1000),
    historyMaxAgeMs: integer(env, 'HISTORY_MAX_AGE_SECONDS', 86400, 60, 30 * 86400) * 1000,
    connectionTtlMs: integer(env, 'CONNECTION_TTL_SECONDS', 900, 1, 86400) * 1000,
    handshakeGraceMs: integer(env, 'HANDSHAKE_GRACE_MS', 10000, 0, 120000),
    ratePerSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 5, 1, 1000),
    rateBurst: integer(env, 'RATE_LIMIT_BURST', 20, 1, 10000),
    presenceMaxOnline: integer(env, 'PRESENCE_MAX_ONLINE', 100, 0, 1_000_000),
  };
}

/** What the chat itself reads, on any platform. */
export type ChatConfig = Omit<Config, 'cos' | 'push'> & { push: Omit<PushSettings, 'url' | 'secret'> };

/** Push tuning shared by both push paths: how many at once, how long, how often, within what budget. */
function loadPushTuning(env: Env): Omit<PushSettings, 'url' | 'secret'> {
  return {
    concurrency: integer(env, 'PUSH_CONCURRENCY', 48, 1, 1024),
    timeoutMs: integer(env, 'PUSH_TIMEOUT_MS', 3000, 50, 60000),
    retries: integer(env, 'PUSH_RETRIES', 2, 0, 5),
    budgetMs: integer(env, 'PUSH_BUDGET_MS', 20000, 100, 900000),
  };
}

/** Limits, room, secrets and push tuning: everything but where the store and the push endpoint are. */
export function loadChatConfig(env: Env = process.env): ChatConfig {
  const defaultRoom = read(env, 'DEFAULT_ROOM') ?? 'lobby';
  if (!ROOM_NAME.test(defaultRoom))
    throw new ConfigError(`DEFAULT_ROOM "${defaultRoom}" is not a valid room name`);
  return {
    push: loadPushTuning(env),
    limits: loadLimits(env),
    defaultRoom,
    authSecret: read(env, 'AUTH_SECRET'),
    publishToken: read(env, 'PUBLISH_TOKEN'),
  };
}

/** A relative key prefix ending in '/', or ''; `name` is the variable it came from. */
export function keyPrefixEnv(env: Env, name: string): string {
  const keyPrefix = read(env, name) ?? 'wschat/';
  if (!/^[A-Za-z0-9_\-/]*$/.test(keyPrefix) || keyPrefix.startsWith('/')) {
    throw new ConfigError(`Environment variable ${name} must be a relative key prefix, got "${keyPrefix}"`);
  }
  return keyPrefix === '' || keyPrefix.endsWith('/') ? keyPrefix : `${keyPrefix}/`;
}

export function loadConfig(env: Env = process.env): Config {
  const endpoint = read(env, 'COS_ENDPOINT');
  const chat = loadChatConfig(env);
  return {
    ...chat,
    cos: {
      bucket: required(env, 'COS_BUCKET', 'the bucket that holds the connection registry, as name-appid'),
      region: required(env, 'COS_REGION', 'the bucket region, e.g. ap-guangzhou'),
      endpoint: endpoint === undefined ? undefined : httpUrlEnv('COS_ENDPOINT', endpoint),
      keyPrefix: keyPrefixEnv(env, 'COS_KEY_PREFIX'),
      ...credentials(env, endpoint !== undefined),
      timeoutMs: integer(env, 'COS_TIMEOUT_MS', 5000, 100, 60000),
    },
    push: {
      ...chat.push,
      url: httpUrlEnv(
        'PUSH_URL',
        required(env, 'PUSH_URL', "the gateway's push URL (its private listener); `npm run deploy` sets it"),
      ),
      secret: gatewaySecretEnv(env, 'the secret shared with the gateway; `npm run deploy` sets it'),
    },
  };
}
