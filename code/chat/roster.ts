import type { Connection, Member } from '../registry/registry';
import { createLru } from '../util/lru';
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
 * A message is posted to a roster caught up for it: one listing of the room's log, shared by the requests of one
 * container that arrive while it is in flight.
 */
export const FRESH = 0;
/** Counts in a room too big for presence lines may be this old: a crowd joining it shares one listing a second. */
export const BIG_ROOM_COUNT_MAX_AGE_MS = 1000;

/**
 * How old a roster may be for a count or a presence line. Caught up in rooms small enough for presence lines,
 * where a count a second old is visibly wrong when people arrive together; a second old above that, where nobody
 * sees a line per arrival and the count is one of hundreds.
 */
export function countMaxAge(ctx: ChatContext, room: string): number {
  const cached = ctx.rosters.cachedCount(room);
  return cached !== undefined && cached > ctx.settings.limits.presenceMaxOnline
    ? BIG_ROOM_COUNT_MAX_AGE_MS
    : FRESH;
}

/** A roster sorted for a read that accepts one `maxAgeMs` old, and the ids it shows live (built when asked). */
interface Sorted {
  at: number;
  roster: Roster;
  liveIds?: ReadonlySet<string>;
}

/** Only rooms too big for presence lines read this way; a few dozen such rooms per container is plenty. */
const SORTED_ROOMS = 64;
const sortedRosters = new WeakMap<ChatContext, ReturnType<typeof createLru<string, Sorted>>>();

/**
 * The room through this container's roster cache (code/chat/roster-cache.ts), sorted into live and stale (not
 * seen within the TTL). `sender`, if given, is counted as online but never pushed to.
 *
 * Sorting walks the whole room. A read that accepts an older roster (a count in a big room) reuses the last one
 * sorted within `maxAgeMs`, so a crowd joining a room of 10,000 walks it once a second, not once per join.
 * Such a roster is shared: read it, do not change it.
 */
export async function readRoster(
  ctx: ChatContext,
  room: string,
  sender?: string,
  maxAgeMs: number = FRESH,
): Promise<Roster> {
  const members = await ctx.rosters.read(room, maxAgeMs);
  const reusable = sender === undefined && maxAgeMs > FRESH;
  let sorted = sortedRosters.get(ctx);
  if (reusable) {
    if (!sorted) sortedRosters.set(ctx, (sorted = createLru(SORTED_ROOMS)));
    const last = sorted.get(room);
    if (last && ctx.clock() - last.at < maxAgeMs) return last.roster;
  }
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
  if (reusable) sorted?.set(room, { at: ctx.clock(), roster });
  return roster;
}

/** The ids a roster shows live; built once per roster that readRoster shares. */
export function liveIds(ctx: ChatContext, roster: Roster): ReadonlySet<string> {
  const shared = sortedRosters.get(ctx)?.get(roster.room);
  if (shared?.roster === roster) return (shared.liveIds ??= new Set(roster.live.map((m) => m.id)));
  return new Set(roster.live.map((m) => m.id));
}

export async function countOnline(ctx: ChatContext, room: string): Promise<number> {
  return (await readRoster(ctx, room, undefined, countMaxAge(ctx, room))).online;
}

/** Marks the connection seen now (see ConnectionRegistry.touch), in the registry and in this container's roster. */
export async function touch(ctx: ChatContext, connection: Connection): Promise<void> {
  await ctx.registry.touch(connection);
  ctx.rosters.touched(connection.room, connection.id, ctx.clock(), ctx.registry.versionOf(connection));
}
