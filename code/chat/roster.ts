import type { Connection, Member } from '../registry/registry';
import type { ChatContext } from './context';

/** A room as the roster cache saw it: who to push to, who to prune, and the sender's own entry if it was there. */
export interface Roster {
  room: string;
  live: Member[];
  stale: Member[];
  /** The sender's own membership, when the roster showed it. */
  excluded?: Member;
  /** Live members plus the sender. */
  online: number;
}

/**
 * Rosters are caught up for every use (a message, a count, a presence line): one listing of the room's log, shared
 * by the requests of one container that arrive while it is in flight. The cache allows older reads, but counts a
 * second old were visibly wrong when people arrived together.
 */
export const FRESH = 0;

/**
 * The room through this container's roster cache (code/chat/roster-cache.ts), sorted into live and stale (not
 * seen within the TTL). `sender`, if given, is counted as online but never pushed to.
 */
export async function readRoster(
  ctx: ChatContext,
  room: string,
  sender?: string,
  maxAgeMs: number = FRESH,
): Promise<Roster> {
  const members = await ctx.rosters.read(room, maxAgeMs);
  const oldest = ctx.clock() - ctx.settings.limits.connectionTtlMs;
  const roster: Roster = { room, live: [], stale: [], online: 0 };
  for (const [id, { lastSeen, version }] of members) {
    const member = { id, lastSeen, version };
    if (id === sender) roster.excluded = member;
    else if (lastSeen < oldest) roster.stale.push(member);
    else roster.live.push(member);
  }
  // The sender is online even when the roster does not show it yet.
  roster.online = roster.live.length + (sender === undefined ? 0 : 1);
  return roster;
}

export async function countOnline(ctx: ChatContext, room: string): Promise<number> {
  return (await readRoster(ctx, room)).online;
}

/** Marks the connection seen now (see ConnectionRegistry.touch), in the registry and in this container's roster. */
export async function touch(ctx: ChatContext, connection: Connection): Promise<void> {
  await ctx.registry.touch(connection);
  ctx.rosters.touched(connection.room, connection.id, ctx.clock(), ctx.registry.versionOf(connection));
}
