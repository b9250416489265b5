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
 * How far behind the registry a roster may be. A message is posted to a roster caught up just now (one listing
 * of the room's log); counts in acks and presence may be a second old, so a crowd joining shares one listing.
 */
export const FRESH = 0;
export const COUNT_MAX_AGE_MS = 1000;

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
  return (await readRoster(ctx, room, undefined, COUNT_MAX_AGE_MS)).online;
}

/** Marks the connection seen now (see ConnectionRegistry.touch), in the registry and in this container's roster. */
export async function touch(ctx: ChatContext, connection: Connection): Promise<void> {
  await ctx.registry.touch(connection);
  ctx.rosters.touched(connection.room, connection.id, ctx.clock(), ctx.registry.versionOf(connection));
}
