import type { ObjectStore } from '../cos/object-store';
import { etagOf } from '../cos/paging';
import { ownField, ownString, parseJsonObject } from '../util/json';
import type { Connection, ConnectionRegistry, Member, RoomEvent } from './registry';
import {
  ALL_CONNECTIONS_PREFIX,
  ALL_ROOM_LOGS_PREFIX,
  ALL_ROOMS_PREFIX,
  connectionKey,
  decodeConnectionId,
  memberKey,
  parseMemberKey,
  parseRoomLogKey,
  roomLogKey,
  roomLogMarker,
  roomLogPrefix,
  roomPrefix,
  type RoomLogKind,
} from './keys';

/** Waits for every write to end, then fails with the first failure, if any. */
async function settleAll(writes: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A damaged record reads as unknown; the next register or join writes a good one. */
function parseRecord(id: string, body: string): Connection | undefined {
  const record = parseJsonObject(body);
  if (!record) return undefined;
  const room = ownString(record, 'room');
  const nick = ownString(record, 'nick');
  if (room === undefined || nick === undefined) return undefined;
  const tag = ownString(record, 'tag');
  return {
    id,
    room,
    nick,
    connectedAt: Number(ownField(record, 'connectedAt')) || 0,
    ...(tag ? { tag } : {}),
  };
}

/**
 * Two small objects per connection: `conn/<id>` holds the record (room, nick) so that transport and cleanup,
 * which only get the ID, can find the room; `room/<room>/<id>` makes the room's roster a prefix listing, so a
 * full roster costs requests in proportion to the room, never the whole bucket. Joins and leaves are also logged
 * under `rlog/<room>/`, keyed by time (keys.ts), so a cached roster catches up with one listing from a marker.
 */
export function createCosRegistry(store: ObjectStore, clock: () => number = Date.now): ConnectionRegistry {
  function writeRecord(connection: Connection): Promise<void> {
    return store.put(connectionKey(connection.id), JSON.stringify(connection));
  }

  function membershipBody(member: { nick?: string }): string {
    return JSON.stringify({ nick: member.nick });
  }

  function writeMembership(connection: Connection): Promise<void> {
    return store.put(memberKey(connection.room, connection.id), membershipBody(connection));
  }

  // A join's log body is the membership body: its ETag is then the member's version.
  function log(room: string, kind: RoomLogKind, connection: { id: string; nick?: string }): Promise<void> {
    const body = kind === 'join' ? membershipBody(connection) : '{}';
    return store.put(roomLogKey(room, clock(), kind, connection.id), body);
  }

  async function remove(entries: ReadonlyArray<{ id: string; room?: string }>): Promise<void> {
    const keys: string[] = [];
    for (const { id, room } of entries) {
      keys.push(connectionKey(id));
      if (room !== undefined) keys.push(memberKey(room, id));
    }
    if (keys.length > 0) await store.deleteMany(keys);
    await Promise.all(
      entries.map(({ id, room }) => (room === undefined ? undefined : log(room, 'leave', { id }))),
    );
  }

  return {
    async add(connection) {
      // All three at once: the handshake waits for one COS round trip, not two. Settled before answering, so a
      // refused client leaves no write still on its way; and what did land is taken back, because a membership
      // without its record could not be cleaned up by ID (a push's 410 and the sweep would, later).
      try {
        await settleAll([
          writeRecord(connection),
          writeMembership(connection),
          log(connection.room, 'join', connection),
        ]);
      } catch (error) {
        await remove([{ id: connection.id, room: connection.room }]).catch(() => undefined);
        throw error;
      }
    },

    async find(id) {
      const body = await store.get(connectionKey(id));
      if (body === undefined) return undefined;
      return parseRecord(id, body);
    },

    async update(connection, previousRoom) {
      await writeRecord(connection);
      await settleAll([writeMembership(connection), log(connection.room, 'join', connection)]);
      if (previousRoom !== connection.room) {
        await store.deleteMany([memberKey(previousRoom, connection.id)]);
        await log(previousRoom, 'leave', connection);
      }
    },

    async touch(connection) {
      await Promise.all([writeRecord(connection), writeMembership(connection)]);
    },

    remove,

    // A membership's listed ETag is that of its body, which holds the nick.
    versionOf: (connection) => etagOf(membershipBody(connection)),

    async leave(entries) {
      if (entries.length > 0) await store.deleteMany(entries.map(({ id, room }) => memberKey(room, id)));
    },

    async *members(room) {
      const prefix = roomPrefix(room);
      for await (const objects of store.listAll(prefix)) {
        yield objects.flatMap((o): Member[] => {
          const parsed = parseMemberKey(o.key);
          return parsed ? [{ id: parsed.id, lastSeen: o.lastModified, version: o.etag }] : [];
        });
      }
    },

    async memberPage(room, { after, limit }) {
      const page = await store.list(roomPrefix(room), {
        marker: after === undefined ? undefined : memberKey(room, after),
        maxKeys: limit,
      });
      const members = page.objects.flatMap((o): Member[] => {
        const parsed = parseMemberKey(o.key);
        return parsed ? [{ id: parsed.id, lastSeen: o.lastModified, version: o.etag }] : [];
      });
      const next = page.nextMarker === undefined ? undefined : parseMemberKey(page.nextMarker)?.id;
      return next === undefined ? { members } : { members, next };
    },

    async *roomLog(room, since) {
      for await (const objects of store.listAll(roomLogPrefix(room), roomLogMarker(room, since))) {
        yield objects.flatMap((o): RoomEvent[] => {
          const parsed = parseRoomLogKey(o.key);
          return parsed
            ? [{ kind: parsed.kind, id: parsed.id, at: parsed.at, version: o.etag, key: o.key }]
            : [];
        });
      }
    },

    async trimRoomLogs(before) {
      const old: string[] = [];
      for await (const objects of store.listAll(ALL_ROOM_LOGS_PREFIX)) {
        for (const o of objects) {
          const parsed = parseRoomLogKey(o.key);
          // Unreadable keys under the log prefix are nobody's: they go too.
          if (!parsed || parsed.at < before) old.push(o.key);
        }
      }
      await store.deleteMany(old);
      return old.length;
    },

    async *allMembers() {
      for await (const objects of store.listAll(ALL_ROOMS_PREFIX)) {
        yield objects.flatMap((o) => {
          const parsed = parseMemberKey(o.key);
          return parsed ? [{ ...parsed, lastSeen: o.lastModified, version: o.etag }] : [];
        });
      }
    },

    async *allRecords() {
      for await (const objects of store.listAll(ALL_CONNECTIONS_PREFIX)) {
        yield objects.map((o) => ({
          id: decodeConnectionId(o.key.slice(ALL_CONNECTIONS_PREFIX.length)),
          lastSeen: o.lastModified,
        }));
      }
    },
  };
}
