import type { ChatMessage } from '../chat/protocol';

/**
 * What a client has shown of one room: which message ids (to drop what it already has, whichever way it came
 * again), the newest few in id order (for the catch-up cursor) and the oldest (for paging backwards).
 */

/**
 * Catch-up asks for messages after the one this many places before the newest seen, not after the newest:
 * concurrent transport invocations can deliver two messages out of order, and a message still on its way when
 * the connection broke would otherwise be skipped. The overlap comes back and is dropped by id.
 */
export const CATCH_UP_OVERLAP = 5;
const RECENT_IDS = 64;
const SEEN_IDS = 5000;

export function byId(a: ChatMessage, b: ChatMessage): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class Timeline {
  private readonly seen = new Set<string>();
  /** Sorted ascending, the newest RECENT_IDS. */
  private recent: string[] = [];
  private oldestId: string | undefined;
  /** A time cursor for a room whose history was empty when we joined: what came later is new to us. */
  private floor: string | undefined;

  constructor(readonly room: string | undefined) {}

  has(id: string): boolean {
    return this.seen.has(id);
  }

  get oldest(): string | undefined {
    return this.oldestId;
  }

  get isEmpty(): boolean {
    return this.seen.size === 0;
  }

  /** Records an id; false when it was known already. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    if (this.oldestId === undefined || id < this.oldestId) this.oldestId = id;
    // Ids sort by time; insert in order (usually at the end).
    let at = this.recent.length;
    while (at > 0 && this.recent[at - 1]! > id) at -= 1;
    if (at === 0 && this.recent.length >= RECENT_IDS) return true;
    this.recent.splice(at, 0, id);
    if (this.recent.length > RECENT_IDS) this.recent.shift();
    return true;
  }

  /** The unseen ones among `messages`, in id order, now recorded as seen. */
  takeNew(messages: ChatMessage[]): ChatMessage[] {
    return [...messages].sort(byId).filter((message) => this.add(message.id));
  }

  /** Sets the cursor for a room with nothing seen yet: messages after this time prefix are all new to us. */
  setFloor(timePrefix: string): void {
    this.floor = timePrefix;
  }

  /**
   * The newest id seen, or for a room seen empty its time cursor (see setFloor): what came after it is unread.
   * Undefined while nothing is known.
   */
  lastSeen(): string | undefined {
    return this.recent[this.recent.length - 1] ?? this.floor;
  }

  /** The `since` for catching up (see CATCH_UP_OVERLAP); undefined: nothing known, ask for the latest page. */
  cursor(): string | undefined {
    if (this.recent.length === 0) return this.floor;
    return this.recent[Math.max(0, this.recent.length - 1 - CATCH_UP_OVERLAP)];
  }
}
