import { createHmac, timingSafeEqual } from 'crypto';
import { isUtf8 } from 'buffer';
import type { IncomingMessage } from 'http';

/**
 * The SSE transport's wire formats, without I/O: paths and constants, the connection-bound send credential, the
 * query that stands in for Sec-WebSocket-Protocol, event framing, and the body of a send. code/gateway/sse.ts
 * is the endpoint that uses them.
 */

export const EVENTS_PATH = '/events';
export const SEND_PATH = '/events/send';

/** How long a send credential holds; a fresh one is written on the stream well before it runs out. */
export const SSE_CREDENTIAL_SECONDS = 600;
/** Tells EventSource how soon to reconnect after the stream ends (ms). */
export const RETRY_MS = 2000;
/** The ref of the catch-up frame sent on a reconnect of a stream that joins by itself. */
export const RESUME_REF = 'sse-resume';
/** The ref of the join the gateway sends for a stream that does not join by itself (a bare reader). */
export const JOIN_REF = 'sse-join';
export const HISTORY_PAGE = 50;

/**
 * Whether the stream's client sends its own `join` (`?join=self`: our web page and terminal client, which join
 * with their own cursor); a bare reader (`curl -N`) is joined by the gateway, as a plain WebSocket client is.
 * Anything else is a mistake worth a 400, not a silent default.
 */
export function joinsItself(query: URLSearchParams): boolean | string {
  const join = query.get('join');
  if (join === null) return false;
  return join === 'self' ? true : 'join must be "self" or absent';
}

/* ---------------- the send credential: HMAC over connection ID and expiry ---------------- */

const PURPOSE = 'sse-send';

function credentialMac(secret: string, connectionId: string, expiresAt: number): Buffer {
  // The purpose leads what is signed, as in code/util/signature.ts, so no push or invocation signature fits.
  return createHmac('sha256', secret).update(`${PURPOSE}\n${expiresAt}\n${connectionId}`).digest();
}

/** `<base64url(connection ID)>.<expiry, unix seconds>.<hex HMAC>` */
export function signSendCredential(secret: string, connectionId: string, expiresAt: number): string {
  const id = Buffer.from(connectionId, 'utf8').toString('base64url');
  return `${id}.${expiresAt}.${credentialMac(secret, connectionId, expiresAt).toString('hex')}`;
}

export type CredentialCheck =
  | { ok: true; connectionId: string; expiresAt: number }
  | { ok: false; reason: 'malformed' | 'expired' | 'mismatch' };

const CREDENTIAL = /^([A-Za-z0-9_-]{1,400})\.(\d{1,12})\.([0-9a-f]{64})$/;

export function verifySendCredential(
  secret: string,
  credential: string,
  nowMs: number = Date.now(),
): CredentialCheck {
  const match = CREDENTIAL.exec(credential);
  if (!match) return { ok: false, reason: 'malformed' };
  const connectionId = Buffer.from(match[1]!, 'base64url').toString('utf8');
  const expiresAt = Number(match[2]);
  const given = Buffer.from(match[3]!, 'hex');
  if (!timingSafeEqual(credentialMac(secret, connectionId, expiresAt), given))
    return { ok: false, reason: 'mismatch' };
  if (expiresAt * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, connectionId, expiresAt };
}

/* ---------------- connect options: the query, as the WebSocket's sub-protocols ---------------- */

/** Room and token go into a comma-separated header value: no commas, spaces or controls. */
const HEADER_TOKEN = /^[\x21-\x2b\x2d-\x7e]{1,4096}$/;

/** The Sec-WebSocket-Protocol entries a WebSocket client would offer for these query parameters. */
export function queryProtocols(query: URLSearchParams): string[] | string {
  const protocols = ['wschat.v1'];
  const room = query.get('room');
  const nick = query.get('nick');
  const token = query.get('token');
  if (room !== null && room !== '') {
    if (room.length > 64 || !HEADER_TOKEN.test(room)) return 'room is not a valid name';
    protocols.push(`room.${room}`);
  }
  if (nick !== null && nick !== '') {
    if (nick.length > 256) return 'nick is too long';
    protocols.push(`nick.${Buffer.from(nick, 'utf8').toString('base64url')}`);
  }
  if (token !== null && token !== '') {
    if (!HEADER_TOKEN.test(token)) return 'token is malformed';
    protocols.push(`token.${token}`);
  }
  const key = query.get('key');
  if (key !== null && key !== '') {
    if (!HEADER_TOKEN.test(key)) return 'key is malformed';
    protocols.push(`key.${key}`);
  }
  return protocols;
}

/** Message IDs are what Last-Event-ID names; anything else is ignored rather than passed on. */
const EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function lastEventIdOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['last-event-id'];
  const raw = (typeof header === 'string' && header !== '' ? header : query.get('lastEventId')) ?? '';
  return EVENT_ID.test(raw) ? raw : undefined;
}

/* ---------------- the wire format ---------------- */

/** One SSE event; every line of `data` gets its own `data:` field so no newline can end the event early. */
export function formatEvent(type: string, data: string, id?: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `event: ${type}\n${id === undefined ? '' : `id: ${id}\n`}${lines.join('')}\n`;
}

interface Described {
  type: string;
  id?: string;
  ref?: string;
}

const EVENT_TYPE = /^[a-z][a-z_-]{0,31}$/;

/** The SSE type and id of a pushed envelope: `message` and `history` carry the last message ID seen. */
export function describePush(data: string): Described {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { type: 'text' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { type: 'text' };
  const env = parsed as Record<string, unknown>;
  const type = typeof env.type === 'string' && EVENT_TYPE.test(env.type) ? env.type : 'text';
  const ref = typeof env.ref === 'string' ? env.ref : undefined;
  let id: unknown;
  if (type === 'message') id = env.id;
  else if (type === 'history' && Array.isArray(env.messages) && env.messages.length > 0) {
    const last: unknown = env.messages[env.messages.length - 1];
    if (typeof last === 'object' && last !== null) id = (last as Record<string, unknown>).id;
  }
  return { type, ref, id: typeof id === 'string' && EVENT_ID.test(id) ? id : undefined };
}

interface SendBody {
  credential?: string;
  /** A JSON command (a ref is added when it has none), or undefined to pass `raw` on as it is. */
  command?: Record<string, unknown>;
  raw: Buffer;
}

/**
 * JSON: a command object (its `credential` field, if any, is taken out). Form-encoded, like the seed's /post:
 * `message` or `text` is a chat message. Anything else is a frame as a WebSocket client would send it.
 */
export function parseSendBody(req: IncomingMessage, body: Buffer): SendBody | string {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(body.toString('utf8'));
    const text = form.get('message') ?? form.get('text');
    if (text === null) return 'a form needs a "message" (or "text") field';
    return { credential: form.get('credential') ?? undefined, command: { type: 'message', text }, raw: body };
  }
  if (!isUtf8(body)) return { raw: body };
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const { credential, ...command } = parsed as Record<string, unknown>;
    return { credential: typeof credential === 'string' ? credential : undefined, command, raw: body };
  }
  if (type === 'application/json') return 'a JSON body must be an object';
  // Plain text is a chat message, as a WebSocket text frame that is not a JSON object is.
  return { command: { type: 'message', text }, raw: body };
}
