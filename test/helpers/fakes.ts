import type { Connection, ConnectionRegistry, Member } from '../../code/registry/registry';
import type { HistoryStore } from '../../code/history/history';
import type { PushClient, PushOutcome } from '../../code/push/push-client';
import type { ChatMessage } from '../../code/chat/protocol';
import type { ChatLimits } from '../../code/config';

/** In-memory ports for unit tests of the chat core. Integration tests use the real COS and HTTP ones. */

export class MemoryRegistry implements ConnectionRegistry {
  readonly records = new Map<string, Connection>();
  /** id → when its record was last written */
  readonly written = new Map<string, number>();
  /** room → id → lastSeen */
  readonly rooms = new Map<string, Map<string, number>>();
  failNext: Partial<Record<'add' | 'find' | 'update' | 'touch' | 'remove' | 'leave' | 'members', Error>> = {};

  constructor(private readonly clock: () => number = Date.now) {}

  private maybeFail(op: keyof MemoryRegistry['failNext']): void {
    const error = this.failNext[op];
    if (error) {
      delete this.failNext[op];
      throw error;
    }
  }

  private room(name: string): Map<string, number> {
    let room = this.rooms.get(name);
    if (!room) this.rooms.set(name, (room = new Map()));
    return room;
  }

  private write(connection: Connection) {
    this.records.set(connection.id, { ...connection });
    this.written.set(connection.id, this.clock());
  }

  async add(connection: Connection) {
    this.maybeFail('add');
    this.write(connection);
    this.room(connection.room).set(connection.id, this.clock());
  }
  finds = 0;
  async find(id: string) {
    this.maybeFail('find');
    this.finds += 1;
    const record = this.records.get(id);
    return record ? { ...record } : undefined;
  }
  async update(connection: Connection, previousRoom: string) {
    this.maybeFail('update');
    this.write(connection);
    this.room(connection.room).set(connection.id, this.clock());
    if (previousRoom !== connection.room) this.room(previousRoom).delete(connection.id);
  }
  async touch(connection: Connection) {
    this.maybeFail('touch');
    this.write(connection);
    this.room(connection.room).set(connection.id, this.clock());
  }
  async remove(entries: Array<{ id: string; room?: string }>) {
    this.maybeFail('remove');
    for (const { id, room } of entries) {
      this.records.delete(id);
      this.written.delete(id);
      if (room !== undefined) this.room(room).delete(id);
    }
  }
  versionOf(connection: Connection | undefined): string {
    return connection ? `${connection.room}/${connection.nick}` : '';
  }
  async leave(entries: Array<{ id: string; room: string }>) {
    this.maybeFail('leave');
    for (const { id, room } of entries) this.room(room).delete(id);
  }
  async *members(room: string): AsyncIterable<Member[]> {
    this.maybeFail('members');
    yield [...this.room(room).entries()].map(([id, lastSeen]) => ({
      id,
      lastSeen,
      version: this.versionOf(this.records.get(id)),
    }));
  }
  async *allMembers() {
    for (const [room, members] of this.rooms) {
      yield [...members.entries()].map(([id, lastSeen]) => ({
        id,
        room,
        lastSeen,
        version: this.versionOf(this.records.get(id)),
      }));
    }
  }
  async *allRecords() {
    yield [...this.records.keys()].map((id) => ({ id, lastSeen: this.written.get(id) ?? 0 }));
  }
  memberIds(room: string): string[] {
    return [...this.room(room).keys()].sort();
  }
}

export class MemoryHistory implements HistoryStore {
  readonly messages: ChatMessage[] = [];
  failAppend = false;
  async append(message: ChatMessage) {
    if (this.failAppend) throw new Error('history unavailable');
    this.messages.push(message);
  }
  async recent(room: string, { since, limit }: { since?: string; limit: number }) {
    const matching = this.messages.filter((m) => m.room === room && (since === undefined || m.id > since));
    const page = since === undefined ? matching.slice(-limit) : matching.slice(0, limit);
    return { messages: page, more: matching.length > limit };
  }
  async trim() {
    return 0;
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
