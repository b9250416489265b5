/**
 * Object keys for connections. `secConnectionID` is base64 and may hold `/` (which COS reads as a folder, and
 * strips when leading), `+` and `=`; we map those three to `_`, `-` and `.`, which is reversible and keeps the
 * key readable. IDs outside the base64 alphabet never get this far: the event parser refuses them.
 */

const TO_KEY: Record<string, string> = { '/': '_', '+': '-', '=': '.' };
const FROM_KEY: Record<string, string> = { _: '/', '-': '+', '.': '=' };

export function encodeConnectionId(id: string): string {
  return id.replace(/[/+=]/g, (c) => TO_KEY[c]!);
}

export function decodeConnectionId(encoded: string): string {
  return encoded.replace(/[_.-]/g, (c) => FROM_KEY[c]!);
}

/** The record of one connection: where it is and what it is called. Read by transport and cleanup. */
export function connectionKey(id: string): string {
  return `conn/${encodeConnectionId(id)}`;
}

/** Membership of a room. Listing `room/<room>/` is the room's roster; LastModified is "last seen". */
export function roomPrefix(room: string): string {
  return `room/${room}/`;
}

export function memberKey(room: string, id: string): string {
  return roomPrefix(room) + encodeConnectionId(id);
}

export const ALL_ROOMS_PREFIX = 'room/';
export const ALL_CONNECTIONS_PREFIX = 'conn/';

/** Splits `room/<room>/<encoded id>` back into its parts, or undefined for a key of another shape. */
export function parseMemberKey(key: string): { room: string; id: string } | undefined {
  const match = /^room\/([^/]+)\/([^/]+)$/.exec(key);
  return match ? { room: match[1]!, id: decodeConnectionId(match[2]!) } : undefined;
}
