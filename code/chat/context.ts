import type { ChatLimits } from '../config';
import type { ConnectionRegistry } from '../registry/registry';
import type { HistoryStore } from '../history/history';
import type { PushClient } from '../push/push-client';
import { errorMessage, type Logger } from './log';
import type { MessageIdSource } from './message-id';
import type { RateLimiter } from './rate-limiter';
import { createRosterCache, type RosterCache } from './roster-cache';
import { createKeyedScope } from '../util/keyed-scope';

export interface ChatSettings {
  limits: ChatLimits;
  defaultRoom: string;
  authSecret?: string;
  /** Key of the identity tags (code/chat/identity.ts); from GATEWAY_SECRET in the functions. */
  tagKey?: string;
  pushConcurrency: number;
  /** How long one invocation may spend on pushes; keep it below the function timeout. */
  broadcastBudgetMs: number;
  /**
   * How far back a roster catch-up re-reads the room log: longer than a registry write can take (the COS
   * timeout) plus clock skew between containers; 6 s when unset (the default COS timeout plus a second).
   * See roster-cache.ts.
   */
  rosterOverlapMs?: number;
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
  /** The rooms this container serves, kept up to date from the registry's room logs. */
  rosters: RosterCache;
  /**
   * Epoch ms (real time, not `clock`) after which no push starts, so the function returns before it times out.
   */
  pushDeadline(): number;
  /**
   * Sends one frame to one connection; an undelivered reply is logged, not thrown. While `holdReplies` runs for
   * that connection, the frame is held for the invocation's answer instead of pushed.
   */
  reply(connectionId: string, frame: string): Promise<void>;
  /** Like `reply`, for error frames: even a failing push is only logged. */
  replyError(connectionId: string, frame: string): Promise<void>;
  /**
   * Runs `handle` (one frame of `connectionId`) holding the replies to that connection, and resolves to them, in
   * order, for the gateway to deliver with the invocation's answer (FrameRequest.inlineReplies).
   */
  holdReplies(connectionId: string, handle: () => Promise<void>): Promise<string[]>;
  /** Asks the gateway to close the connection, after any replies held for it are pushed. */
  closeConnection(connectionId: string): Promise<void>;
}

/**
 * The most a connection's held replies may hold, in characters: past it they are pushed instead (in order), so
 * that an answer stays well inside the gateway's 1 MiB (a character is at most 3 bytes of UTF-8, or 2 escaped in
 * the answer's JSON). A join's ack and page of 50 messages at the 4 KiB limit fit.
 */
export const MAX_HELD_REPLY_CHARS = 256 * 1024;

export function rosterOverlap(settings: ChatSettings): number {
  return settings.rosterOverlapMs ?? 6000;
}

/** Rooms one container keeps rosters of; a room of 10,000 takes about 1 MB. */
const MAX_CACHED_ROOMS = 200;

/** A cached room is listed in full again this often: within a quarter of the TTL, so heartbeats show in time. */
export function fullListingInterval(connectionTtlMs: number): number {
  return Math.min(60_000, Math.floor(connectionTtlMs / 4));
}

export function createContext(deps: ChatDeps, clock: () => number, messageIds: MessageIdSource): ChatContext {
  const { push, log, settings } = deps;
  const pushDeadline = () => Date.now() + settings.broadcastBudgetMs;
  async function pushReply(connectionId: string, frame: string): Promise<void> {
    const outcome = await push.send(connectionId, frame, { deadline: pushDeadline() });
    if (outcome !== 'delivered') log.warn('reply_not_delivered', { connection: connectionId, outcome });
  }
  // By connection: only a connection's own frame replies to it, and the gateway hands a connection's frames over
  // one at a time, so invocations of this container running side by side never share an entry.
  const held = createKeyedScope<{ frames: string[]; chars: number }>();
  /** Pushes what is held for the connection, in order, and stops holding its replies. */
  async function release(connectionId: string): Promise<void> {
    const hold = held.get(connectionId);
    if (!hold) return;
    held.end(connectionId);
    for (const frame of hold.frames.splice(0)) await pushReply(connectionId, frame);
  }
  async function reply(connectionId: string, frame: string): Promise<void> {
    const hold = held.get(connectionId);
    if (hold && hold.chars + frame.length <= MAX_HELD_REPLY_CHARS) {
      hold.frames.push(frame);
      hold.chars += frame.length;
      return;
    }
    await release(connectionId);
    await pushReply(connectionId, frame);
  }
  async function holdReplies(connectionId: string, handle: () => Promise<void>): Promise<string[]> {
    // Undefined only if the connection's replies were already held (not expected, see above): they stay there.
    const hold = await held.run(connectionId, { frames: [], chars: 0 }, handle);
    return hold?.frames ?? [];
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
    rosters: createRosterCache(deps.registry, clock, {
      overlapMs: rosterOverlap(settings),
      fullEveryMs: fullListingInterval(settings.limits.connectionTtlMs),
      maxRooms: MAX_CACHED_ROOMS,
    }),
    pushDeadline,
    reply,
    replyError: (connectionId, frame) =>
      reply(connectionId, frame).catch((error) =>
        log.error('error_reply_failed', { error: errorMessage(error) }),
      ),
    holdReplies,
    async closeConnection(connectionId) {
      await release(connectionId);
      await push.close(connectionId);
    },
  };
}
