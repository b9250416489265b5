/** Where live connections are kept. One real implementation: `cos-registry.ts`. */

export interface Connection {
  id: string;
  room: string;
  nick: string;
  connectedAt: number;
  /** Shown next to the nick; stable per person when the client offered an identity (code/chat/identity.ts). */
  tag?: string;
}

export interface Member {
  id: string;
  /** Last time the connection proved it was alive (registered, joined or sent a heartbeat). */
  lastSeen: number;
  /** Changes whenever the member's nick changes; compare with `ConnectionRegistry.versionOf`. */
  version: string;
}

/** One entry of a room's log: a connection joined the room (or was renamed in it), or left it. */
export interface RoomEvent {
  kind: 'join' | 'leave';
  id: string;
  /** When it was written, by the writer's clock (epoch ms): the log's order. */
  at: number;
  /** For a join, the member's `version` (as `versionOf` gives it). */
  version: string;
  /** Names the entry: the same entry listed twice is applied once. */
  key: string;
}

export interface ConnectionRegistry {
  /** Stores the record and the membership, and logs the join in the room's log. */
  add(connection: Connection): Promise<void>;
  find(id: string): Promise<Connection | undefined>;
  /** Saves a changed nick or room and logs it; `previousRoom` is left (and the leave logged) when it changed. */
  update(connection: Connection, previousRoom: string): Promise<void>;
  /** Marks the connection as seen now (rewrites its record and membership, restoring a pruned membership). */
  touch(connection: Connection): Promise<void>;
  /** Deletes records and, where the room is given, memberships, logging the leave. */
  remove(entries: Array<{ id: string; room?: string }>): Promise<void>;
  /**
   * Deletes memberships only. The record stays, so a connection pruned while still alive keeps its room and
   * nick when it comes back; the sweep removes records left without a membership past the TTL. Nothing is logged:
   * a pruned member is gone or silent, which every roster learns on its own (a push answered 410, its age).
   */
  leave(entries: Array<{ id: string; room: string }>): Promise<void>;
  /** The `version` a member listed in `connection.room` has while its nick is `connection.nick`. */
  versionOf(connection: Connection): string;
  /** The room's members, a page at a time (COS returns at most 1000 keys per request). */
  members(room: string): AsyncIterable<Member[]>;
  /**
   * One page of the room's members (one listing request of at most `limit` keys), in the registry's own order,
   * starting after the member `after`; `next` is the cursor of the following page, absent on the last.
   */
  memberPage(
    room: string,
    options: { after?: string; limit: number },
  ): Promise<{ members: Member[]; next?: string }>;
  /**
   * The room's log from `since` on (entries written at or after it, by the writer's clock), oldest first, a page
   * at a time: what a cached roster needs to catch up, one request while fewer than 1000 entries are that new.
   */
  roomLog(room: string, since: number): AsyncIterable<RoomEvent[]>;
  /** Deletes the log entries of every room written before `before`; returns how many. */
  trimRoomLogs(before: number): Promise<number>;
  /** Every membership in every room, for the sweep. */
  allMembers(): AsyncIterable<Array<Member & { room: string }>>;
  /** Every connection record; `lastSeen` is when it was last written (register, join, nick, touch). */
  allRecords(): AsyncIterable<Array<{ id: string; lastSeen: number }>>;
}
