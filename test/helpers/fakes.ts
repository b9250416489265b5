import { StoreError } from '../../code/util/store-error';
import type { Connection, ConnectionRegistry, Member, RoomEvent } from '../../code/registry/registry';
import type { HistoryPage, HistoryStore, PageRequest } from '../../code/history/history';
import { choosePage, countAfter, retentionDropping } from '../../code/history/paging';
import type { PushClient, PushOutcome } from '../../code/push/push-client';
import type { ChatMessage } from '../../code/chat/protocol';
import type { ChatLimits } from '../../code/config';

/** In-memory ports for unit tests of the chat core. Integration tests use the real COS and HTTP ones. */

interface Membership {
  lastSeen: number;
  /** Written with the membership, as COS's ETag is: it describes what the membership says, not the record. */
  version: string;
}

/**
 * The registry in memory. test/contract/registry.test.ts runs the same suite against it and the COS one, so the
 * two agree on what the port promises.
 */
export class MemoryRegistry implements ConnectionRegistry {
  readonly records = new Map<string, Connection>();
  /** id → when its record was last written */
  readonly written = new Map<string, number>();
  /** room → id → membership */
  readonly rooms = new Map<string, Map<string, Membership>>();
  /** Every room's log, in writing order (which, with one clock, is key order). */
  readonly log: Array<RoomEvent & { room: string }> = [];
  failNext: Partial<
    Record<'add' | 'find' | 'update' | 'touch' | 'remove' | 'leave' | 'members' | 'roomLog', Error>
  > = {};
  finds = 0;
  /** Listings of the room log, as the COS registry would send them (one request a call here). */
  logReads = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  private maybeFail(op: keyof MemoryRegistry['failNext']): void {
    const error = this.failNext[op];
    if (error) {
      delete this.failNext[op];
      throw error;
    }
  }

  private room(name: string): Map<string, Membership> {
    let room = this.rooms.get(name);
    if (!room) this.rooms.set(name, (room = new Map()));
    return room;
  }

  private write(connection: Connection) {
    this.records.set(connection.id, { ...connection });
    this.written.set(connection.id, this.clock());
    this.room(connection.room).set(connection.id, {
      lastSeen: this.clock(),
      version: this.versionOf(connection),
    });
  }

  private logEvent(room: string, kind: RoomEvent['kind'], connection: { id: string; nick?: string }) {
    const at = this.clock();
    const version = kind === 'join' ? `nick:${connection.nick}` : '';
    // Like the COS key: time, kind, id, and unique per entry.
    const key = `${room}/${String(at).padStart(15, '0')}${kind[0]}${connection.id}#${this.log.length}`;
    this.log.push({ room, kind, id: connection.id, at, version, key });
  }

  async add(connection: Connection) {
    this.maybeFail('add');
    this.write(connection);
    this.logEvent(connection.room, 'join', connection);
  }
  async find(id: string) {
    this.maybeFail('find');
    this.finds += 1;
    const record = this.records.get(id);
    return record ? { ...record } : undefined;
  }
  async update(connection: Connection, previousRoom: string) {
    this.maybeFail('update');
    this.write(connection);
    this.logEvent(connection.room, 'join', connection);
    if (previousRoom !== connection.room) {
      this.room(previousRoom).delete(connection.id);
      this.logEvent(previousRoom, 'leave', connection);
    }
  }
  async touch(connection: Connection) {
    this.maybeFail('touch');
    this.write(connection);
  }
  async remove(entries: Array<{ id: string; room?: string }>) {
    this.maybeFail('remove');
    for (const { id, room } of entries) {
      this.records.delete(id);
      this.written.delete(id);
      if (room !== undefined) {
        this.room(room).delete(id);
        this.logEvent(room, 'leave', { id });
      }
    }
  }
  versionOf(connection: Connection): string {
    return `nick:${connection.nick}`;
  }
  async leave(entries: Array<{ id: string; room: string }>) {
    this.maybeFail('leave');
    for (const { id, room } of entries) this.room(room).delete(id);
  }
  async *members(room: string): AsyncIterable<Member[]> {
    this.maybeFail('members');
    yield [...this.room(room).entries()].map(([id, { lastSeen, version }]) => ({ id, lastSeen, version }));
  }
  /** Pages in ID order, as the COS registry pages in key order. */
  async memberPage(room: string, { after, limit }: { after?: string; limit: number }) {
    this.maybeFail('members');
    const ids = [...this.room(room).keys()].sort().filter((id) => after === undefined || id > after);
    const members = ids.slice(0, limit).map((id) => ({ id, ...this.room(room).get(id)! }));
    return ids.length > limit ? { members, next: members[members.length - 1]!.id } : { members };
  }
  async *roomLog(room: string, since: number): AsyncIterable<RoomEvent[]> {
    this.maybeFail('roomLog');
    this.logReads += 1;
    yield this.log.filter((e) => e.room === room && e.at >= since).map(({ room: _room, ...event }) => event);
  }
  async trimRoomLogs(before: number) {
    const kept = this.log.filter((e) => e.at >= before);
    const trimmed = this.log.length - kept.length;
    this.log.splice(0, this.log.length, ...kept);
    return trimmed;
  }
  async *allMembers() {
    for (const [room, members] of this.rooms) {
      yield [...members.entries()].map(([id, { lastSeen, version }]) => ({ id, room, lastSeen, version }));
    }
  }
  async *allRecords() {
    yield [...this.records.keys()].map((id) => ({ id, lastSeen: this.written.get(id) ?? 0 }));
  }
  memberIds(room: string): string[] {
    return [...this.room(room).keys()].sort();
  }
}

/** History in memory, with the same retention rules as the COS one (see test/contract/history.test.ts). */
export class MemoryHistory implements HistoryStore {
  readonly messages: ChatMessage[] = [];
  /** When each message was stored, by ID: retention by age counts from there, as COS's LastModified does. */
  private readonly storedAt = new Map<string, number>();
  failAppend = false;

  constructor(
    private readonly retention: { limit: number; maxAgeMs: number } = { limit: 100, maxAgeMs: 86_400_000 },
    private readonly clock: () => number = Date.now,
  ) {}

  async append(message: ChatMessage) {
    if (this.failAppend) throw new Error('history unavailable');
    if (this.retention.limit === 0) return;
    this.messages.push(message);
    this.storedAt.set(message.id, this.clock());
  }
  /** The COS store's choice (code/history/paging.ts) over what it keeps, newest first. */
  async recent(room: string, { since, before, limit }: PageRequest): Promise<HistoryPage> {
    const oldest = this.clock() - this.retention.maxAgeMs;
    const wanted = Math.min(limit, this.retention.limit);
    if (wanted <= 0)
      return since === undefined ? { messages: [], more: false } : { messages: [], more: false, gap: true };
    const cursor = since ?? before;
    const listed = this.messages
      .filter((m) => m.room === room)
      .reverse()
      .slice(0, cursor === undefined ? wanted + 1 : this.retention.limit + 1);
    const retained = listed.filter((m) => (this.storedAt.get(m.id) ?? 0) >= oldest);
    const kept = cursor === undefined ? retained : retained.slice(0, this.retention.limit);
    const dropping = retentionDropping({
      keptCount: retained.length,
      limit: this.retention.limit,
      agedOut: retained.length < listed.length,
      cursor: since,
      oldestAllowedMs: oldest,
    });
    const choice = choosePage(kept, { since, before, limit: wanted }, dropping);
    return {
      messages: choice.chosen.reverse(),
      more: choice.more,
      ...(choice.gap ? { gap: true as const } : {}),
    };
  }
  /** Counted as the COS store counts (code/history/paging.ts), over what it keeps. */
  async countAfter(room: string, since: string | undefined, cap: number) {
    if (this.retention.limit <= 0 || cap <= 0) return { count: 0, capped: false };
    const oldest = this.clock() - this.retention.maxAgeMs;
    const kept = this.messages
      .filter((m) => m.room === room)
      .reverse()
      .slice(0, this.retention.limit)
      .filter((m) => (this.storedAt.get(m.id) ?? 0) >= oldest);
    return countAfter(kept, since, cap);
  }
  async has(message: ChatMessage) {
    return this.messages.some((m) => m.id === message.id && m.room === message.room);
  }
  /** Claims by room and cid, as the COS store keeps them. */
  readonly claims = new Map<string, { message: ChatMessage; undelivered: boolean }>();
  failClaim = false;
  async claim(message: ChatMessage & { cid: string }) {
    if (this.failClaim) throw new StoreError('claim refused', undefined);
    const key = `${message.room}/${message.cid}`;
    const claimed = this.claims.get(key);
    if (claimed) return claimed;
    this.claims.set(key, { message, undelivered: false });
    this.claimedAt.set(key, this.clock());
    return undefined;
  }
  /** When each claim was written, as COS's LastModified: claims expire with the age limit. */
  private readonly claimedAt = new Map<string, number>();
  async markUndelivered(message: ChatMessage & { cid: string }) {
    const key = `${message.room}/${message.cid}`;
    this.claims.set(key, { message, undelivered: true });
    this.claimedAt.set(key, this.clock());
  }
  async trim() {
    const oldest = this.clock() - this.retention.maxAgeMs;
    for (const [key, at] of this.claimedAt) {
      if (at >= oldest) continue;
      this.claims.delete(key);
      this.claimedAt.delete(key);
    }
    const keptPerRoom = new Map<string, number>();
    const expired = new Set<ChatMessage>();
    // Newest first, as the COS listing is within a room.
    for (const message of [...this.messages].reverse()) {
      const kept = keptPerRoom.get(message.room) ?? 0;
      if (kept >= this.retention.limit || (this.storedAt.get(message.id) ?? 0) < oldest) expired.add(message);
      else keptPerRoom.set(message.room, kept + 1);
    }
    const remaining = this.messages.filter((m) => !expired.has(m));
    this.messages.splice(0, this.messages.length, ...remaining);
    return expired.size;
  }
}

export class RecordingPush implements PushClient {
  readonly sent: Array<{ to: string; frame: Record<string, unknown> }> = [];
  readonly closed: string[] = [];
  /** Connection IDs the fake gateway reports gone. */
  readonly gone = new Set<string>();
  async send(connectionId: string, text: string): Promise<PushOutcome> {
    if (this.gone.has(connectionId)) return 'gone';
    this.sent.push({ to: connectionId, frame: JSON.parse(text) as Record<string, unknown> });
    return 'delivered';
  }
  async close(connectionId: string): Promise<PushOutcome> {
    if (this.gone.has(connectionId)) return 'gone';
    this.closed.push(connectionId);
    return 'delivered';
  }
  to(connectionId: string): Array<Record<string, unknown>> {
    return this.sent.filter((s) => s.to === connectionId).map((s) => s.frame);
  }
  clear(): void {
    this.sent.length = 0;
  }
}

export const TEST_LIMITS: ChatLimits = {
  maxMessageBytes: 1000,
  maxNickLength: 24,
  historyLimit: 100,
  historyMaxAgeMs: 86_400_000,
  connectionTtlMs: 900_000,
  handshakeGraceMs: 0,
  ratePerSecond: 1000,
  rateBurst: 1000,
  presenceMaxOnline: 1000,
};
