import type { ChatMessage, ErrorCode, ServerEnvelope } from '../../code/chat/protocol';

/**
 * How the terminal client prints events. Every event is exactly one line, so that stdout can be piped into
 * grep/awk: `HH:MM:SS nick#tag: text` for messages and `HH:MM:SS * ...` for room notices. Errors are
 * `! code: message` (on stderr, see chat-cli.ts).
 */

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** Local wall-clock time of an epoch-ms timestamp, as HH:MM:SS. */
export function formatClock(ts: number): string {
  const date = new Date(ts);
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

// C0 controls except tab, DEL, C1 controls, and bidi overrides/isolates that could reorder what is shown.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Makes untrusted text safe for one terminal line: line breaks become a visible `\n` (one line per event) and
 * other control characters (ANSI escapes included) are shown as `\u{..}` instead of being interpreted.
 */
export function sanitize(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(2, '0')}}`);
}

export function who(nick: string, tag: string): string {
  return `${sanitize(nick)}#${sanitize(tag)}`;
}

export function formatMessage(message: Pick<ChatMessage, 'from' | 'tag' | 'text' | 'ts'>): string {
  return `${formatClock(message.ts)} ${who(message.from, message.tag)}: ${sanitize(message.text)}`;
}

export function formatNotice(ts: number, text: string): string {
  return `${formatClock(ts)} * ${text}`;
}

export type PresenceEvent = Omit<Extract<ServerEnvelope, { type: 'presence' }>, 'v' | 'type'>;

export function formatPresence(presence: PresenceEvent): string {
  const online = `(${presence.online} online)`;
  const room = sanitize(presence.room);
  switch (presence.event) {
    case 'join':
      return formatNotice(presence.ts, `${who(presence.nick, presence.tag)} joined ${room} ${online}`);
    case 'leave':
      return formatNotice(presence.ts, `${who(presence.nick, presence.tag)} left ${room} ${online}`);
    case 'nick':
      return formatNotice(
        presence.ts,
        `${who(presence.previous ?? '?', presence.tag)} is now ${sanitize(presence.nick)} ${online}`,
      );
  }
}

/** Our own join. Nick, tag and count are left out when unknown (the server did not acknowledge a join). */
export function formatJoined(
  ts: number,
  ack: { room: string; nick?: string; tag?: string; online?: number },
): string {
  let text = `joined ${sanitize(ack.room)}`;
  if (ack.nick !== undefined)
    text += ` as ${ack.tag === undefined ? sanitize(ack.nick) : who(ack.nick, ack.tag)}`;
  if (ack.online !== undefined) text += ` (${ack.online} online)`;
  return formatNotice(ts, text);
}

export function formatRenamed(ts: number, ack: { nick: string; tag: string }): string {
  return formatNotice(ts, `you are now ${who(ack.nick, ack.tag)}`);
}

export function formatError(code: ErrorCode | string, message: string): string {
  return `! ${sanitize(code)}: ${sanitize(message)}`;
}

/** Seconds with one decimal, for status lines ("reconnecting in 1.3 s"). */
export function formatSeconds(ms: number): string {
  return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
}
