import { createLru } from '../util/lru';
import type { ConnectionRegistry, RoomEvent } from '../registry/registry';

/**
 * What one warm container knows of the rooms it serves, so that a message to a room of 10,000 costs one COS
 * request instead of ten, and a join none.
 *
 * A room is read in full once (its `room/<room>/` listing: members with their last-seen time), then kept up to
 * date from the room's log (`rlog/<room>/`, keys ordered by time): each catch-up lists the log from a marker, one
 * request while fewer than 1000 entries are that new. Every `fullEveryMs` the room is listed in full again, which refreshes last-seen times (heartbeats rewrite memberships, not the log) and forgets
 * whatever the log could not say (a member pruned by the sweep, a log entry written out of clock order).
 *
 * Why a cached entry is never worse than one push to nobody:
 * - a member that left was logged (cleanup, room change) and is dropped at the next catch-up;
 * - one whose socket closed without that (a lost cleanup) is answered 410 by the gateway on the next push and
 *   dropped here (`forget`), as the registry prunes it;
 * - one that went silent ages past the TTL by its last-seen time, exactly as in a full listing.
 * And no new member is missed: a catch-up lists the log from `overlapMs` before the previous one started, so an
 * entry stamped by another container's clock and stored late (up to the COS timeout) is still in its window.
 */

export interface CachedMember {
  lastSeen: number;
  version: string;
}

export interface RosterCacheOptions {
  /** How far back a catch-up lists the log before the previous one started: COS timeout plus clock skew. */
  overlapMs: number;
  /** A room is listed in full again after this long; below half the TTL so heartbeats show. */
  fullEveryMs: number;
  /** Rooms kept; past this, the least recently read is forgotten (memory stays bounded). */
  maxRooms: number;
}

interface RoomState {
  members: Map<string, CachedMember>;
  /** Log entries already applied (key → time): the overlap lists them again. */
  applied: Map<string, number>;
  /** Members dropped for a 410 or a prune (id → when): a join of theirs listed again must not bring them back. */
  forgotten: Map<string, number>;
  /** Clock at the start of the last full listing, and of the last catch-up (full or from the log). */
  fullAt: number;
  caughtUpAt: number;
  refreshing?: Promise<void>;
}

export interface RosterCache {
  /**
   * The room's members, at most `maxAgeMs` behind the registry (0: caught up by a request started now, or by one
   * in flight). The map is the cache's own: read it, do not keep it.
   */
  read(room: string, maxAgeMs: number): Promise<ReadonlyMap<string, CachedMember>>;
  /** These members are gone (the gateway answered 410, or they were pruned): drop them. */
  forget(room: string, ids: readonly string[]): void;
  /**
   * This container just rewrote a membership (a heartbeat, which also restores a pruned one): the member is in
   * the room, seen at `at`, with `version`.
   */
  touched(room: string, id: string, at: number, version: string): void;
  /** How many members the cache last held for the room (no request); undefined for a room it does not hold. */
  cachedCount(room: string): number | undefined;
  /** Rooms held now (for tests and the bench). */
  readonly size: number;
}

export function createRosterCache(
  registry: Pick<ConnectionRegistry, 'members' | 'roomLog'>,
  clock: () => number,
  options: RosterCacheOptions,
): RosterCache {
  const rooms = createLru<string, RoomState>(options.maxRooms);

  function apply(state: RoomState, events: RoomEvent[]): void {
    for (const event of events) {
      if (state.applied.has(event.key)) continue;
      state.applied.set(event.key, event.at);
      if (event.kind === 'leave') {
        state.members.delete(event.id);
        continue;
      }
      const forgottenAt = state.forgotten.get(event.id);
      if (forgottenAt !== undefined && event.at <= forgottenAt) continue;
      const known = state.members.get(event.id);
      state.members.set(event.id, {
        lastSeen: Math.max(known?.lastSeen ?? 0, event.at),
        version: event.version,
      });
    }
  }

  async function catchUp(room: string, state: RoomState, full: boolean): Promise<void> {
    const started = clock();
    if (full) {
      // The listing is the room as of now; a join whose writes were still in flight is in the next catch-up's
      // window (it lists the log from `started` less the overlap), so the log need not be read as well.
      const members = new Map<string, CachedMember>();
      for await (const page of registry.members(room)) {
        for (const m of page) {
          const forgottenAt = state.forgotten.get(m.id);
          if (forgottenAt === undefined || m.lastSeen > forgottenAt) {
            members.set(m.id, { lastSeen: m.lastSeen, version: m.version });
          }
        }
      }
      // Replaces the room only once it is read whole: a failed listing leaves the old state.
      state.members = members;
      state.applied = new Map();
      state.fullAt = started;
    } else {
      for await (const page of registry.roomLog(room, state.caughtUpAt - options.overlapMs))
        apply(state, page);
    }
    // Entries older than the next catch-up's window cannot be listed again.
    const oldest = started - options.overlapMs;
    for (const [key, at] of state.applied) if (at < oldest) state.applied.delete(key);
    for (const [id, at] of state.forgotten) if (at < oldest) state.forgotten.delete(id);
    state.caughtUpAt = started;
  }

  function stateOf(room: string): RoomState {
    const state = rooms.get(room) ?? {
      members: new Map(),
      applied: new Map(),
      forgotten: new Map(),
      fullAt: -Infinity,
      caughtUpAt: -Infinity,
    };
    rooms.set(room, state);
    return state;
  }

  async function read(room: string, maxAgeMs: number): Promise<ReadonlyMap<string, CachedMember>> {
    const state = stateOf(room);
    // Requests at the same time share one catch-up: one listing serves them all. (A message posted meanwhile is
    // stored while its room is read either way, as it was when every message listed the room.)
    if (
      state.refreshing &&
      (await state.refreshing.then(
        () => true,
        () => false,
      ))
    )
      return state.members;
    const now = clock();
    const full = now - state.fullAt >= options.fullEveryMs;
    if (full || now - state.caughtUpAt >= maxAgeMs) {
      if (!state.refreshing) {
        state.refreshing = catchUp(room, state, full).finally(() => {
          state.refreshing = undefined;
        });
      }
      await state.refreshing;
    }
    return state.members;
  }

  return {
    read,
    forget(room, ids) {
      const state = rooms.get(room);
      if (!state) return;
      const now = clock();
      for (const id of ids) {
        state.members.delete(id);
        state.forgotten.set(id, now);
      }
    },
    touched(room, id, at, version) {
      const state = rooms.get(room);
      state?.forgotten.delete(id);
      state?.members.set(id, { lastSeen: Math.max(state.members.get(id)?.lastSeen ?? 0, at), version });
    },
    cachedCount: (room) => rooms.get(room)?.members.size,
    get size() {
      return rooms.size;
    },
  };
}
