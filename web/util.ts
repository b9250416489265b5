/** Small browser helpers without DOM state: validation, formatting, storage, tokens. */

import { checkNickname, checkRoomInput, type NameCheck } from '../code/chat/names';
import { backoffDelay as sharedBackoffDelay } from '../code/util/backoff';
import { messageIdTimePrefix } from '../code/chat/message-id';

export const MAX_NICK_LENGTH = 24;
export const DEFAULT_ROOM = 'lobby';

export type Checked = NameCheck;

function sentence(check: NameCheck): NameCheck {
  return check.ok
    ? check
    : { ok: false, reason: `${check.reason[0]!.toUpperCase()}${check.reason.slice(1)}.` };
}

export function checkRoom(input: string): Checked {
  return sentence(checkRoomInput(input));
}

export function checkNick(input: string): Checked {
  return sentence(checkNickname(input, MAX_NICK_LENGTH));
}

/** The time prefix of server message ids (code/chat/message-id.ts), so the page's keys and ids sort together. */
export const timeKey = messageIdTimePrefix;

const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });

export function formatTime(ms: number): string {
  return clock.format(ms);
}

export function formatFull(ms: number): string {
  return full.format(ms);
}

export function startOfDay(ms: number): number {
  const date = new Date(ms);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

export function formatDay(ms: number, now = Date.now()): string {
  const day = startOfDay(ms);
  const today = startOfDay(now);
  if (day === today) return 'Today';
  if (day === startOfDay(today - 12 * 3600_000)) return 'Yesterday';
  return dayFormat.format(ms);
}

/** A stable hue per nickname, so a person keeps their colour across messages and reloads. */
export function hueOf(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) | 0;
  return Math.abs(hash) % 360;
}

export function initialOf(nick: string): string {
  const first = Array.from(nick.trim())[0] ?? '?';
  return first.toUpperCase();
}

/** Web storage that never throws: it is disabled or full in some private modes, and the chat must still work. */
function safeStorage(area: () => Storage) {
  return {
    get(key: string): string | undefined {
      try {
        return area().getItem(key) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set(key: string, value: string): void {
      try {
        area().setItem(key, value);
      } catch {
        // Not remembered; nothing else to do.
      }
    },
    getList(key: string): string[] {
      try {
        const parsed: unknown = JSON.parse(this.get(key) ?? '[]');
        return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
      } catch {
        return [];
      }
    },
    setList(key: string, values: string[]): void {
      this.set(key, JSON.stringify(values));
    },
  };
}

/** Remembered by the browser: the nickname and rooms a person last used. */
export const storage = safeStorage(() => window.localStorage);
/** Remembered by this tab only (and its reloads): who this tab is, so two tabs are two people. */
export const tabStorage = safeStorage(() => window.sessionStorage);

/** How many bytes the server counts for a message (UTF-8, as MAX_MESSAGE_BYTES). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * Reads (does not verify) the claims of a connect token: the server decides nick and room from it, and the page
 * needs the room to join and the expiry to explain a refusal the browser reports without a reason. The reader is
 * the core's own (code/chat/token-claims.ts), so the page reads exactly what the server would.
 */
export { readTokenClaims, type UnverifiedClaims as TokenClaims } from '../code/chat/token-claims';

/** The page's reconnect schedule: the one full-jitter backoff (code/util/backoff.ts), up to 15 s. */
const RECONNECT_BACKOFF = { baseMs: 500, maxMs: 15_000 };

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  return Math.round(sharedBackoffDelay(Math.min(attempt, 10), RECONNECT_BACKOFF, random));
}
