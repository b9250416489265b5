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
export const ALL_ROOM_LOGS_PREFIX = 'rlog/';

/**
 * A room's log: one small object per join (or rename) and per leave, `rlog/<room>/<time><j|l><encoded id>`, the
 * time base36 and fixed-width so keys sort by time. A warm container lists it from a `marker` to learn who came
 * and went since it last looked (code/chat/roster-cache.ts): one request however big the room.
 */
export function roomLogPrefix(room: string): string {
  return `rlog/${room}/`;
}

const LOG_TIME_WIDTH = 9;
/** Base36 ms, fixed width: up to the year 5138. */
function logTime(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(LOG_TIME_WIDTH, '0');
}

export type RoomLogKind = 'join' | 'leave';

export function roomLogKey(room: string, at: number, kind: RoomLogKind, id: string): string {
  return roomLogPrefix(room) + logTime(at) + (kind === 'join' ? 'j' : 'l') + encodeConnectionId(id);
}

/** The key every log entry written at or after `at` sorts after (COS lists keys after the marker). */
export function roomLogMarker(room: string, at: number): string {
  return roomLogPrefix(room) + logTime(at);
}

export function parseRoomLogKey(
  key: string,
): { room: string; at: number; kind: RoomLogKind; id: string } | undefined {
  const match = /^rlog\/([^/]+)\/([0-9a-z]{9})([jl])([^/]+)$/.exec(key);
  if (!match) return undefined;
  return {
    room: match[1]!,
    at: parseInt(match[2]!, 36),
    kind: match[3] === 'j' ? 'join' : 'leave',
    id: decodeConnectionId(match[4]!),
  };
}
export const ALL_CONNECTIONS_PREFIX = 'conn/';

/** Splits `room/<room>/<encoded id>` back into its parts, or undefined for a key of another shape. */
export function parseMemberKey(key: string): { room: string; id: string } | undefined {
  const match = /^room\/([^/]+)\/([^/]+)$/.exec(key);
  return match ? { room: match[1]!, id: decodeConnectionId(match[2]!) } : undefined;
}
