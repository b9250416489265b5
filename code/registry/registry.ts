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

export interface ConnectionRegistry {
  add(connection: Connection): Promise<void>;
  find(id: string): Promise<Connection | undefined>;
  /** Saves a changed nick or room; `previousRoom` is left when the room changed. */
  update(connection: Connection, previousRoom: string): Promise<void>;
  /** Marks the connection as seen now (rewrites its record and membership, restoring a pruned membership). */
  touch(connection: Connection): Promise<void>;
  /** Deletes records and, where the room is given, memberships. */
  remove(entries: Array<{ id: string; room?: string }>): Promise<void>;
  /**
   * Deletes memberships only. The record stays, so a connection pruned while still alive keeps its room and
   * nick when it comes back; the sweep removes records left without a membership past the TTL.
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
  /** Every membership in every room, for the sweep. */
  allMembers(): AsyncIterable<Array<Member & { room: string }>>;
  /** Every connection record; `lastSeen` is when it was last written (register, join, nick, touch). */
  allRecords(): AsyncIterable<Array<{ id: string; lastSeen: number }>>;
}
