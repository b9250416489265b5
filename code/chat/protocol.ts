import { isJsonObject, ownField } from '../util/json';
import { decodeTextBase64Url, encodeBase64Url, encodeTextBase64Url } from './base64url';

/**
 * The chat protocol, version 1 (documented in docs/protocol.md). Client frames are JSON commands, or plain text,
 * which is a chat message so that wscat and bare HTML clients work. Every server frame is a JSON envelope with
 * `v` and `type`.
 */

export const PROTOCOL_VERSION = 1;
/** Sub-protocol a client offers to speak this protocol and pass room, nick and token at connect time. */
export const SUBPROTOCOL = 'wschat.v1';

export type ErrorCode =
  | 'bad_frame'
  | 'binary_unsupported'
  | 'too_large'
  | 'empty_message'
  | 'unknown_command'
  | 'invalid_nick'
  | 'invalid_room'
  | 'invalid_cursor'
  | 'rate_limited'
  | 'forbidden'
  | 'not_registered'
  | 'store_unavailable'
  | 'internal';

export interface ChatMessage {
  id: string;
  room: string;
  from: string;
  /** Short, stable per connection, so two people who pick the same nick can be told apart. */
  tag: string;
  text: string;
  /** Server time, ms since the epoch. */
  ts: number;
  /** 'api' when published through the HTTP publish API. */
  source?: 'api';
  /** The sender's own message id (`cid`), when it gave one: lets it recognise its message after a reconnect. */
  cid?: string;
}

/** A client message id: chosen by the sender so that a retried send is stored and delivered once. */
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isClientMessageId(value: string): boolean {
  return CLIENT_MESSAGE_ID_PATTERN.test(value);
}

export type ClientCommand =
  | { type: 'message'; text: string; cid?: string; ref?: string }
  | { type: 'nick'; nick: string; ref?: string }
  /** Without `room`: the room the connection is in (how the gateway joins a plain client for it). */
  | { type: 'join'; room?: string; since?: string; ref?: string }
  | { type: 'history'; since?: string; before?: string; limit?: number; ref?: string }
  | { type: 'ping'; ref?: string }
  | { type: 'members'; after?: string; limit?: number; ref?: string }
  | { type: 'typing'; ref?: string }
  | { type: 'unread'; rooms: UnreadRequest[]; ref?: string };

/** One room of an `unread` request: count what it kept after `since` (everything it keeps without it). */
export interface UnreadRequest {
  room: string;
  since?: string;
}

/** One entry of a `members` answer: who is in the room, as others see them. */
export interface MemberEntry {
  nick: string;
  tag: string;
}

export type ServerEnvelope =
  | ({ v: 1; type: 'message'; online: number } & ChatMessage)
  | {
      v: 1;
      type: 'ack';
      for: 'message';
      ref?: string;
      id: string;
      delivered: number;
      failed: number;
      online: number;
      stored: boolean;
      /** A retry of a send already seen (same `cid`): `id` is the original message's, nothing was sent again. */
      duplicate?: true;
    }
  | {
      v: 1;
      type: 'ack';
      for: 'join' | 'nick';
      ref?: string;
      room: string;
      nick: string;
      tag: string;
      online: number;
    }
  | {
      v: 1;
      type: 'presence';
      event: 'join' | 'leave' | 'nick';
      room: string;
      nick: string;
      tag: string;
      previous?: string;
      online: number;
      ts: number;
    }
  | {
      v: 1;
      type: 'history';
      ref?: string;
      room: string;
      messages: ChatMessage[];
      more: boolean;
      /** Answering `since`: messages after the cursor may have been dropped by retention (see HistoryPage). */
      gap?: true;
    }
  | { v: 1; type: 'pong'; ref?: string; ts: number }
  | {
      v: 1;
      type: 'members';
      ref?: string;
      room: string;
      members: MemberEntry[];
      /** Pass as `after` to read the next page; absent on the last page. */
      next?: string;
    }
  | { v: 1; type: 'typing'; room: string; nick: string; tag: string; ts: number }
  | {
      v: 1;
      type: 'unread';
      ref?: string;
      /** Per room asked (normalized name): messages kept after the last seen id, at most a history page. */
      rooms: Record<string, number>;
      /** Rooms whose count stopped at the history page: that many or more. */
      capped?: string[];
    }
  | { v: 1; type: 'error'; code: ErrorCode; message: string; ref?: string };

/**
 * Several presence events of one room in one frame (code/chat/presence.ts), each list in the order they happened.
 * Kept out of ServerEnvelope for now: clients that know only join/leave/nick show an unknown event generically.
 */
export interface PresenceBatchEnvelope {
  v: 1;
  type: 'presence';
  event: 'batch';
  room: string;
  joined: PresenceWho[];
  left: PresenceWho[];
  renamed: Array<PresenceWho & { previous: string }>;
  online: number;
  ts: number;
}

export interface PresenceWho {
  nick: string;
  tag: string;
}

type WithoutVersion<T> = T extends unknown ? Omit<T, 'v'> : never;

export function envelope(body: WithoutVersion<ServerEnvelope | PresenceBatchEnvelope>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...body });
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ref?: string,
  ) {
    super(message);
  }
}

function optionalString(
  obj: Record<string, unknown>,
  key: string,
  ref: string | undefined,
): string | undefined {
  const value = ownField(obj, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ProtocolError('bad_frame', `"${key}" must be a string`, ref);
  return value;
}

function requiredString(obj: Record<string, unknown>, key: string, ref: string | undefined): string {
  const value = optionalString(obj, key, ref);
  if (value === undefined) throw new ProtocolError('bad_frame', `"${key}" is required`, ref);
  return value;
}

function optionalLimit(obj: Record<string, unknown>, ref: string | undefined): number | undefined {
  const limit = ownField(obj, 'limit');
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ProtocolError('bad_frame', '"limit" must be a positive integer', ref);
  }
  return limit as number | undefined;
}

/**
 * `"rooms": {"<room>": "<last seen id>" | null, …}` as a list. Names and ids are checked by the use case
 * (code/chat/unread.ts), which also bounds how many; the frame's size bounds the parsing.
 */
function unreadRooms(obj: Record<string, unknown>, ref: string | undefined): UnreadRequest[] {
  const rooms = ownField(obj, 'rooms');
  if (!isJsonObject(rooms)) {
    throw new ProtocolError(
      'bad_frame',
      '"rooms" must be an object of room name to last seen id or null',
      ref,
    );
  }
  return Object.entries(rooms).map(([room, since]) => {
    if (since === null) return { room };
    if (typeof since !== 'string') {
      throw new ProtocolError(
        'bad_frame',
        `"rooms": the last seen id of ${JSON.stringify(room.slice(0, 32))} must be a string or null`,
        ref,
      );
    }
    return { room, since };
  });
}

/**
 * Reads one client text frame. JSON objects are commands; anything else, including text that merely looks
 * like JSON, is a chat message.
 */
export function parseClientFrame(text: string): ClientCommand {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { type: 'message', text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { type: 'message', text };
  }
  if (!isJsonObject(parsed)) return { type: 'message', text };
  const obj = parsed;
  const rawRef = ownField(obj, 'ref');
  const ref = typeof rawRef === 'string' && rawRef.length <= 64 ? rawRef : undefined;
  const type = ownField(obj, 'type');
  switch (type) {
    case 'message': {
      const cid = optionalString(obj, 'cid', ref);
      if (cid !== undefined && !isClientMessageId(cid)) {
        throw new ProtocolError('bad_frame', '"cid" must be 1-64 characters of A-Z, a-z, 0-9, _ and -', ref);
      }
      const text = requiredString(obj, 'text', ref);
      return cid === undefined ? { type, text, ref } : { type, text, cid, ref };
    }
    case 'nick':
      return { type, nick: requiredString(obj, 'nick', ref), ref };
    case 'join':
      return { type, room: optionalString(obj, 'room', ref), since: optionalString(obj, 'since', ref), ref };
    case 'history': {
      const since = optionalString(obj, 'since', ref);
      const before = optionalString(obj, 'before', ref);
      if (since !== undefined && before !== undefined) {
        throw new ProtocolError('bad_frame', '"since" and "before" cannot be used together', ref);
      }
      return { type, since, before, limit: optionalLimit(obj, ref), ref };
    }
    case 'ping':
    case 'typing':
      return { type, ref };
    case 'members':
      return { type, after: optionalString(obj, 'after', ref), limit: optionalLimit(obj, ref), ref };
    case 'unread':
      return { type, rooms: unreadRooms(obj, ref), ref };
    default:
      throw new ProtocolError(
        'unknown_command',
        `unknown command ${JSON.stringify(typeof type === 'string' ? type.slice(0, 32) : (type ?? null))}; ` +
          'expected message, nick, join, history, ping, members, typing or unread',
        ref,
      );
  }
}

/** What a client asked for at connect time, through Sec-WebSocket-Protocol entries. */
export interface ConnectOptions {
  room?: string;
  nick?: string;
  token?: string;
  /** The client's identity key (`key.<base64url>`): the same key gets the same tag on every connection. */
  key?: string;
  /** The protocol to answer with: ours when offered, otherwise the client's first (see register). */
  protocol?: string;
  /** Why an entry could not be read (the connection is refused with it rather than admitted as a guest). */
  malformed?: string;
}

/**
 * `Sec-WebSocket-Protocol: wschat.v1, room.<name>, nick.<base64url>, token.<token>, key.<key>`: browsers only allow
 * token characters there, hence base64url for the nick. Tencent documents this header as the one part of the
 * handshake that reaches the register function (secWebSocketProtocol); query strings are not documented.
 */
export function readConnectOptions(protocols: string[]): ConnectOptions {
  const options: ConnectOptions = {};
  for (const protocol of protocols) {
    const dot = protocol.indexOf('.');
    const name = dot === -1 ? protocol : protocol.slice(0, dot);
    const value = dot === -1 ? '' : protocol.slice(dot + 1);
    if (name === 'room') options.room = value;
    else if (name === 'nick') {
      options.nick = decodeTextBase64Url(value);
      if (options.nick === undefined) options.malformed = 'nick.<…> is not unpadded base64url of UTF-8 text';
    } else if (name === 'token') options.token = value;
    else if (name === 'key') options.key = value;
  }
  options.protocol = protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : protocols[0];
  return options;
}

/** What an identity key looks like: base64url, at least 128 bits (22 characters), at most 128 characters. */
export const IDENTITY_KEY = /^[A-Za-z0-9_-]{22,128}$/;

/**
 * A new identity key for a client to keep (the terminal client in a file, the page in its storage) and offer on
 * every connect: 24 random bytes as base64url. Browser-safe: Web Crypto, which Node 20 has too.
 */
export function newIdentityKey(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(24)));
}

export function connectProtocols(options: {
  room?: string;
  nick?: string;
  token?: string;
  key?: string;
}): string[] {
  const protocols = [SUBPROTOCOL];
  if (options.room) protocols.push(`room.${options.room}`);
  if (options.nick) protocols.push(`nick.${encodeTextBase64Url(options.nick)}`);
  if (options.token) protocols.push(`token.${options.token}`);
  if (options.key) protocols.push(`key.${options.key}`);
  return protocols;
}
