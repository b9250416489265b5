import { createHash } from 'crypto';
import type { ObjectStore } from '../cos/object-store';
import { ownField, ownString, parseJsonObject } from '../util/json';
import type { Connection, ConnectionRegistry, Member } from './registry';
import {
  ALL_CONNECTIONS_PREFIX,
  ALL_ROOMS_PREFIX,
  connectionKey,
  decodeConnectionId,
  memberKey,
  parseMemberKey,
  roomPrefix,
} from './keys';

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
 * broadcast costs requests in proportion to the room, never the whole bucket.
 */
export function createCosRegistry(store: ObjectStore): ConnectionRegistry {
  function writeRecord(connection: Connection): Promise<void> {
    return store.put(connectionKey(connection.id), JSON.stringify(connection));
  }

  function membershipBody(connection: Connection): string {
    return JSON.stringify({ nick: connection.nick });
  }

  function writeMembership(connection: Connection): Promise<void> {
    return store.put(memberKey(connection.room, connection.id), membershipBody(connection));
  }

  return {
    async add(connection) {
      // Record first: a member key without a record would be broadcast to but could not be cleaned up by ID.
      await writeRecord(connection);
      await writeMembership(connection);
    },

    async find(id) {
      const body = await store.get(connectionKey(id));
      if (body === undefined) return undefined;
      return parseRecord(id, body);
    },

    async update(connection, previousRoom) {
      await writeRecord(connection);
      await writeMembership(connection);
      if (previousRoom !== connection.room) await store.deleteMany([memberKey(previousRoom, connection.id)]);
    },

    async touch(connection) {
      await Promise.all([writeRecord(connection), writeMembership(connection)]);
    },

    async remove(entries) {
      const keys: string[] = [];
      for (const { id, room } of entries) {
        keys.push(connectionKey(id));
        if (room !== undefined) keys.push(memberKey(room, id));
      }
      if (keys.length > 0) await store.deleteMany(keys);
    },

    // COS's ETag of a simple PUT is the MD5 of the body, and the membership body holds the nick.
    versionOf: (connection) => createHash('md5').update(membershipBody(connection)).digest('hex'),

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
