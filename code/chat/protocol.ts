import { isJsonObject, ownField } from '../util/json';
import { decodeTextBase64Url, encodeTextBase64Url } from './base64url';

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
}

export type ClientCommand =
  | { type: 'message'; text: string; ref?: string }
  | { type: 'nick'; nick: string; ref?: string }
  | { type: 'join'; room: string; since?: string; ref?: string }
  | { type: 'history'; since?: string; limit?: number; ref?: string }
  | { type: 'ping'; ref?: string };

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
  | { v: 1; type: 'history'; ref?: string; room: string; messages: ChatMessage[]; more: boolean }
  | { v: 1; type: 'pong'; ref?: string; ts: number }
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
    case 'message':
      return { type, text: requiredString(obj, 'text', ref), ref };
    case 'nick':
      return { type, nick: requiredString(obj, 'nick', ref), ref };
    case 'join':
      return { type, room: requiredString(obj, 'room', ref), since: optionalString(obj, 'since', ref), ref };
    case 'history': {
      const limit = ownField(obj, 'limit');
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
        throw new ProtocolError('bad_frame', '"limit" must be a positive integer', ref);
      }
      return { type, since: optionalString(obj, 'since', ref), limit: limit as number | undefined, ref };
    }
    case 'ping':
      return { type, ref };
    default:
      throw new ProtocolError(
        'unknown_command',
        `unknown command ${JSON.stringify(typeof type === 'string' ? type.slice(0, 32) : (type ?? null))}; ` +
          'expected message, nick, join, history or ping',
        ref,
      );
  }
}

/** What a client asked for at connect time, through Sec-WebSocket-Protocol entries. */
export interface ConnectOptions {
  room?: string;
  nick?: string;
  token?: string;
  /** The protocol to answer with: ours when offered, otherwise the client's first (see register). */
  protocol?: string;
  /** Why an entry could not be read (the connection is refused with it rather than admitted as a guest). */
  malformed?: string;
}

/**
 * `Sec-WebSocket-Protocol: wschat.v1, room.<name>, nick.<base64url>, token.<token>`: browsers only allow
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
  }
  options.protocol = protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : protocols[0];
  return options;
}

export function connectProtocols(options: { room?: string; nick?: string; token?: string }): string[] {
  const protocols = [SUBPROTOCOL];
  if (options.room) protocols.push(`room.${options.room}`);
  if (options.nick) protocols.push(`nick.${encodeTextBase64Url(options.nick)}`);
  if (options.token) protocols.push(`token.${options.token}`);
  return protocols;
}
