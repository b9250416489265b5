import type { ChatMessage, ServerEnvelope } from '../chat/protocol';

/**
 * Reads a server frame defensively, for both clients: they show what they receive, so a field of the wrong type
 * (another server version, a proxy) must not crash them. Unknown envelope types are returned as undefined and
 * ignored; presence frames with an event this client does not know pass through (see PresenceFrame).
 */

/**
 * A presence frame. `join`, `leave` and `nick` carry nick and tag; other events (a server may batch joins and
 * leaves into one frame) are passed to the face as they are, which renders them generically (the count).
 */
export interface PresenceFrame {
  v: 1;
  type: 'presence';
  event: string;
  room?: string;
  nick?: string;
  tag?: string;
  previous?: string;
  online?: number;
  ts?: number;
  [field: string]: unknown;
}

/** What a client reads from the server: the protocol's envelopes, with presence widened. */
export type ClientEnvelope = Exclude<ServerEnvelope, { type: 'presence' }> | PresenceFrame;

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (o: Obj, k: string) => typeof o[k] === 'string';
const num = (o: Obj, k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
const optStr = (o: Obj, k: string) => o[k] === undefined || typeof o[k] === 'string';

export function isChatMessage(value: unknown): value is ChatMessage {
  return (
    isObj(value) &&
    str(value, 'id') &&
    str(value, 'room') &&
    str(value, 'from') &&
    str(value, 'tag') &&
    str(value, 'text') &&
    num(value, 'ts') &&
    optStr(value, 'cid')
  );
}

const optNum = (o: Obj, k: string) => o[k] === undefined || num(o, k);
const KNOWN_PRESENCE = new Set(['join', 'leave', 'nick']);

function isPresence(e: Obj): boolean {
  if (typeof e.event !== 'string' || !optStr(e, 'room') || !optNum(e, 'online') || !optNum(e, 'ts'))
    return false;
  if (!KNOWN_PRESENCE.has(e.event)) return true;
  return str(e, 'room') && str(e, 'nick') && str(e, 'tag') && optStr(e, 'previous') && num(e, 'online');
}

/** An envelope already parsed from JSON (the web client's EventSource and WebSocket hand it over parsed). */
export function readEnvelope(parsed: unknown): ClientEnvelope | undefined {
  if (!isObj(parsed) || parsed.v !== 1 || !optStr(parsed, 'ref')) return undefined;
  const e = parsed;
  switch (e.type) {
    case 'message':
      return isChatMessage(e) && num(e, 'online') ? (e as unknown as ClientEnvelope) : undefined;
    case 'ack':
      if (e.for === 'message')
        return str(e, 'id') && num(e, 'delivered') && num(e, 'failed') && num(e, 'online')
          ? (e as unknown as ClientEnvelope)
          : undefined;
      if (e.for === 'join' || e.for === 'nick')
        return str(e, 'room') && str(e, 'nick') && str(e, 'tag') && num(e, 'online')
          ? (e as unknown as ClientEnvelope)
          : undefined;
      return undefined;
    case 'presence':
      return isPresence(e) ? (e as unknown as PresenceFrame) : undefined;
    case 'history':
      return str(e, 'room') &&
        Array.isArray(e.messages) &&
        e.messages.every(isChatMessage) &&
        typeof e.more === 'boolean'
        ? (e as unknown as ClientEnvelope)
        : undefined;
    case 'pong':
      return e as unknown as ClientEnvelope;
    case 'members':
      return str(e, 'room') &&
        optStr(e, 'next') &&
        Array.isArray(e.members) &&
        e.members.every((m) => isObj(m) && str(m, 'nick') && str(m, 'tag'))
        ? (e as unknown as ClientEnvelope)
        : undefined;
    case 'typing':
      return str(e, 'room') && str(e, 'nick') && str(e, 'tag') ? (e as unknown as ClientEnvelope) : undefined;
    case 'unread':
      return isObj(e.rooms) &&
        Object.values(e.rooms).every((count) => Number.isInteger(count) && (count as number) >= 0) &&
        (e.capped === undefined || (Array.isArray(e.capped) && e.capped.every((r) => typeof r === 'string')))
        ? (e as unknown as ClientEnvelope)
        : undefined;
    case 'error':
      return str(e, 'code') && str(e, 'message') ? (e as unknown as ClientEnvelope) : undefined;
    default:
      return undefined;
  }
}

/** A text frame from the server, or undefined when it is not an envelope this client knows. */
export function parseServerFrame(data: string): ClientEnvelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  return readEnvelope(parsed);
}
