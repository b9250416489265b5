import type { UnreadRequest } from '../chat/protocol';
import { isMessageId } from '../chat/message-id';
import { checkRoomInput } from '../chat/names';

/**
 * The rooms a client was in lately, most recent first, each with the last message id seen there: what the `unread`
 * command asks about while it is in another room. The page keeps them in web storage, to badge its room list; the
 * terminal client in a Map, for `/unread`. Bounded (the server counts at most 8 rooms a request), and read
 * defensively: web storage is the user's, and another tab or an older version of the page may have written
 * anything there.
 */

/** The part of web storage this needs (web/util.ts `storage`; a Map in the terminal client and in tests). */
export interface StringStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export const ROOMS_KEY = 'wschat.rooms';
export const SEEN_KEY = 'wschat.seen';
export const MAX_RECENT_ROOMS = 8;

export class RecentRooms {
  constructor(
    private readonly store: StringStore,
    private readonly max = MAX_RECENT_ROOMS,
  ) {}

  /** Most recent first; valid names only, each once, at most `max`. */
  list(): string[] {
    const stored = this.readJson(ROOMS_KEY, []);
    const rooms: string[] = [];
    for (const entry of Array.isArray(stored) ? stored : []) {
      if (typeof entry !== 'string') continue;
      const room = checkRoomInput(entry);
      if (room.ok && !rooms.includes(room.value)) rooms.push(room.value);
    }
    return rooms.slice(0, this.max);
  }

  /** Puts `room` first; a room pushed off the end is forgotten with its last seen id. */
  visit(room: string): void {
    const rooms = [room, ...this.list().filter((r) => r !== room)].slice(0, this.max);
    this.store.set(ROOMS_KEY, JSON.stringify(rooms));
    const seen = this.seenMap();
    for (const known of [...seen.keys()]) if (!rooms.includes(known)) seen.delete(known);
    this.writeSeen(seen);
  }

  lastSeen(room: string): string | undefined {
    return this.seenMap().get(room);
  }

  /**
   * Records the newest id seen in a recent room. Ids sort by time, so an older one (from another tab, or a
   * time cursor after a real id) never moves it back: that would count messages already read as unread.
   */
  markSeen(room: string, id: string): void {
    if (!isMessageId(id) || !this.list().includes(room)) return;
    const seen = this.seenMap();
    const known = seen.get(room);
    if (known !== undefined && known >= id) return;
    seen.set(room, id);
    this.writeSeen(seen);
  }

  /**
   * What to ask the server: the other recent rooms whose last seen id is known, most recent first, at most
   * `max` (the server's `unreadRooms`, from config.json).
   */
  unreadRequest(current: string, max = this.max): UnreadRequest[] {
    const seen = this.seenMap();
    return this.list()
      .flatMap((room) => {
        const since = seen.get(room);
        return room === current || since === undefined ? [] : [{ room, since }];
      })
      .slice(0, max);
  }

  private seenMap(): Map<string, string> {
    const stored = this.readJson(SEEN_KEY, {});
    const seen = new Map<string, string>();
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return seen;
    // Own entries only: whatever a key is called, it never reaches a prototype.
    for (const [room, id] of Object.entries(stored)) {
      if (typeof id === 'string' && isMessageId(id) && checkRoomInput(room).ok) seen.set(room, id);
    }
    return seen;
  }

  private writeSeen(seen: Map<string, string>): void {
    this.store.set(SEEN_KEY, JSON.stringify(Object.fromEntries(seen)));
  }

  private readJson(key: string, fallback: unknown): unknown {
    try {
      return JSON.parse(this.store.get(key) ?? 'null') ?? fallback;
    } catch {
      return fallback;
    }
  }
}

/** A room's badge: its count, with "+" when the server stopped counting; none when nothing is unread. */
export function badgeText(unread: { count: number; capped: boolean } | undefined): string | undefined {
  if (unread === undefined || unread.count <= 0) return undefined;
  return unread.capped ? `${unread.count}+` : String(unread.count);
}
