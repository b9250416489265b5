import { isJsonObject, ownField, ownString, parseJsonObject, type JsonObject } from '../util/json';

/**
 * Chat for WebSocket clients that do not speak our protocol: wscat, Python's `websockets`, the seed article's page.
 * They did not offer `wschat.v1`, so they get what the room says as readable lines (`alice: hi`), not envelopes.
 *
 * Why here, at the edge, and not in the core: the functions push one envelope to each member and do not know,
 * per member, what it negotiated (the room listing holds IDs only; asking each record would cost a read per
 * member per message). The gateway answered the handshake itself, so it knows each socket's sub-protocol for
 * free, and renders just before the write. It already reads envelope `type` and `id` for server-sent events
 * (sse-wire.ts); this reads a few more fields, as plain JSON, without importing the core (eslint.config.mjs).
 * SSE streams always speak the protocol (sse.ts attaches them as `wschat.v1`) and keep JSON.
 */

/** Our sub-protocol (code/chat/protocol.ts SUBPROTOCOL; test/unit/gateway/plain-text.test.ts keeps them equal). */
export const CHAT_SUBPROTOCOL = 'wschat.v1';

/**
 * What the gateway sends as a plain client's first frame: a `join` of the room it is in, as a protocol client sends
 * one. It gets the room's recent messages, and the room hears it arrive, as it will hear it leave.
 */
export const PLAIN_CLIENT_HELLO = '{"type":"join"}';

const str = (obj: JsonObject, key: string): string => ownString(obj, key) ?? '?';

function line(obj: JsonObject): string {
  return `${str(obj, 'from')}: ${str(obj, 'text')}`;
}

function presence(obj: JsonObject): string {
  const online = ownField(obj, 'online');
  const count = typeof online === 'number' ? ` (${online} online)` : '';
  const nick = str(obj, 'nick');
  switch (ownField(obj, 'event')) {
    case 'join':
      return `* ${nick} joined${count}`;
    case 'leave':
      return `* ${nick} left${count}`;
    default:
      return `* ${str(obj, 'previous')} is now ${nick}`;
  }
}

/**
 * The text frames a plain client gets for one server frame: none for acks, pongs and typing notices (noise
 * without a protocol), one line per message otherwise. Text that is not an envelope passes unchanged.
 */
export function renderPlain(frame: string): string[] {
  const obj = parseJsonObject(frame);
  if (!obj || ownField(obj, 'v') !== 1) return [frame];
  switch (ownField(obj, 'type')) {
    case 'message':
      return [line(obj)];
    case 'history': {
      const messages = ownField(obj, 'messages');
      return Array.isArray(messages) ? messages.filter(isJsonObject).map(line) : [];
    }
    case 'presence':
      return [presence(obj)];
    case 'error':
      return [`! ${str(obj, 'code')}: ${str(obj, 'message')}`];
    case 'members': {
      const members = ownField(obj, 'members');
      const names = Array.isArray(members)
        ? members.filter(isJsonObject).map((m) => `${str(m, 'nick')}#${str(m, 'tag')}`)
        : [];
      const next = ownString(obj, 'next');
      const more = next === undefined ? '' : ` … more: {"type":"members","after":${JSON.stringify(next)}}`;
      return [`* in ${str(obj, 'room')}: ${names.join(', ')}${more}`];
    }
    case 'unread': {
      const rooms = ownField(obj, 'rooms');
      const capped = ownField(obj, 'capped');
      const full = new Set(Array.isArray(capped) ? capped : []);
      const counts = isJsonObject(rooms)
        ? Object.entries(rooms).map(([room, count]) => `${room} ${String(count)}${full.has(room) ? '+' : ''}`)
        : [];
      return [`* unread: ${counts.join(', ') || 'none asked'}`];
    }
    default:
      return [];
  }
}
