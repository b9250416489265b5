import type { Connection } from '../registry/registry';
import { ownField, ownString, parseJsonObject } from '../util/json';

/**
 * A connection's record as the gateway keeps it for us: register answers it, the gateway hands it back with each of
 * the connection's frames, and transport answers a new one when a command changed the record (nick, room). Our
 * gateway is the only one that does (docs/gateway.md), and it calls transport with one frame of a connection at a
 * time, so the one it hands over is always the latest: transport then needs no COS read to know who is sending.
 * Without one (another gateway, AWS), the record is read from the registry as before.
 */

export function encodeContext(connection: Connection): string {
  const { room, nick, connectedAt, tag } = connection;
  return JSON.stringify(tag === undefined ? { room, nick, connectedAt } : { room, nick, connectedAt, tag });
}

/** The record a context holds for `connectionId`, or undefined if it holds none we can use. */
export function decodeContext(connectionId: string, context: string | undefined): Connection | undefined {
  if (context === undefined) return undefined;
  const record = parseJsonObject(context);
  if (!record) return undefined;
  const room = ownString(record, 'room');
  const nick = ownString(record, 'nick');
  const connectedAt = ownField(record, 'connectedAt');
  if (room === undefined || nick === undefined || typeof connectedAt !== 'number') return undefined;
  const tag = ownString(record, 'tag');
  return { id: connectionId, room, nick, connectedAt, ...(tag === undefined ? {} : { tag }) };
}
