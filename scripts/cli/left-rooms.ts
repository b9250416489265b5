import type { UnreadRequest } from '../../code/chat/protocol';

/**
 * The rooms this run of the terminal client has left with /join, newest first, each with the last message seen
 * there: what `/unread` asks about (the web page keeps the same list in localStorage, web/recent-rooms.ts). Only in
 * memory: a terminal session is one run.
 */
export class LeftRooms {
  /** Room → the last message id seen there; Map order is the order they were left in. */
  private readonly seen = new Map<string, string>();

  /** Leaving `room`, where `lastSeen` was the last message shown (none: nothing to count from, so not kept). */
  left(room: string, lastSeen: string | undefined): void {
    this.seen.delete(room);
    if (lastSeen !== undefined) this.seen.set(room, lastSeen);
  }

  /** What to ask: the most recently left rooms first, never the one we are in, at most `max` (the server's cap). */
  request(current: string | undefined, max: number): UnreadRequest[] {
    return [...this.seen]
      .reverse()
      .filter(([room]) => room !== current)
      .slice(0, max)
      .map(([room, since]) => ({ room, since }));
  }
}
