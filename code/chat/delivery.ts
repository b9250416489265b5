import type { PushOutcome } from '../push/push-client';
import { mapBounded } from '../util/map-bounded';
import type { ChatContext } from './context';
import { errorMessage } from './log';
import { envelope, type ChatMessage } from './protocol';
import { FRESH, readRoster, type Roster } from './roster';

/** What one fan-out achieved. `online` counts the room, less the members the gateway reported gone. */
export interface Delivery {
  delivered: number;
  gone: number;
  failed: number;
  online: number;
}

/**
 * Pushes one frame to every live member with bounded concurrency, then prunes the stale and the ones the gateway
 * reports gone (their memberships; see registry.leave). A gone connection is an ordinary outcome.
 */
export async function fanOut(ctx: ChatContext, roster: Roster, frame: string): Promise<Delivery> {
  const now = ctx.clock();
  const deadline = ctx.pushDeadline();
  const { pushConcurrency, limits } = ctx.settings;
  const outcomes = await mapBounded(roster.live, pushConcurrency, (member): Promise<PushOutcome> => {
    if (Date.now() >= deadline) return Promise.resolve('failed');
    return ctx.push.send(member.id, frame, { deadline });
  });
  const result: Delivery = { delivered: 0, gone: 0, failed: 0, online: roster.online };
  const prune = roster.stale.map(({ id }) => ({ id, room: roster.room }));
  outcomes.forEach((outcome, index) => {
    result[outcome] += 1;
    const member = roster.live[index]!;
    // register stores a connection before the gateway completes its handshake: a push in between finds no
    // socket yet, so a member that new is not pruned for being gone.
    if (outcome === 'gone' && now - member.lastSeen >= limits.handshakeGraceMs) {
      prune.push({ id: member.id, room: roster.room });
    }
  });
  // Recipients the gateway does not know are not online, whether or not they are pruned yet.
  result.online -= result.gone;
  if (prune.length > 0) {
    ctx.rosters.forget(
      roster.room,
      prune.map(({ id }) => id),
    );
    try {
      await ctx.registry.leave(prune);
    } catch (error) {
      // The sweep or the next broadcast tries again.
      ctx.log.warn('prune_failed', { room: roster.room, count: prune.length, error: errorMessage(error) });
    }
  }
  return result;
}

export interface Posted extends Delivery {
  /** False when history could not store the message: it was delivered, but a reconnecting client misses it. */
  stored: boolean;
  roster: Roster;
}

/** The room could not be listed, so nobody received the message; `stored` says whether history has it. */
export class RoomUnreadableError extends Error {
  override readonly name = 'RoomUnreadableError';
  constructor(
    readonly room: string,
    readonly stored: boolean,
    readonly cause: unknown,
  ) {
    super(`room ${room} could not be listed: ${errorMessage(cause)}`);
  }
}

/**
 * Posts a message to its room: the one path for chat messages and published ones. The message is stored in
 * history while the room is listed (neither request needs the other) and pushed once storing has ended, so a
 * client that hears of it finds it in history too. A history failure does not stop delivery (`stored: false`);
 * a room that cannot be listed does (RoomUnreadableError).
 *
 * `sender` is counted as online and not pushed to; `listed` is a roster of the room read just before, if any.
 */
export async function postToRoom(
  ctx: ChatContext,
  message: ChatMessage,
  options: { sender?: string; listed?: Roster } = {},
): Promise<Posted> {
  const storing = ctx.history.append(message).then(
    () => true,
    (error: unknown) => {
      ctx.log.warn('history_write_failed', { room: message.room, error: errorMessage(error) });
      return false;
    },
  );
  let roster: Roster;
  try {
    roster = options.listed ?? (await readRoster(ctx, message.room, options.sender, FRESH));
  } catch (error) {
    ctx.log.error('broadcast_failed', { room: message.room, error: errorMessage(error) });
    throw new RoomUnreadableError(message.room, await storing, error);
  }
  const stored = await storing;
  const delivery = await fanOut(
    ctx,
    roster,
    envelope({ type: 'message', ...message, online: roster.online }),
  );
  return { ...delivery, stored, roster };
}
