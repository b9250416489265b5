/**
 * Rules for room names and nicknames. Browser-safe (no Node imports): the web client checks with the same code
 * before connecting, because a name refused at connect time reaches a browser only as a failed handshake.
 */

export const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
// Letters, marks and digits of any script, plus a few separators; no control, markup or invisible characters.
const NICKNAME = /^[\p{L}\p{M}\p{N}_.\- ]+$/u;

export type NameCheck = { ok: true; value: string } | { ok: false; reason: string };

export function checkRoomName(input: string): NameCheck {
  const value = input.trim().toLowerCase();
  if (ROOM_NAME.test(value)) return { ok: true, value };
  return {
    ok: false,
    reason: 'room names are 1-32 characters: a-z, 0-9, "_" and "-", starting with a letter or digit',
  };
}

export function checkNickname(input: string, maxLength: number): NameCheck {
  const value = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  const length = Array.from(value).length;
  if (length >= 1 && length <= maxLength && NICKNAME.test(value)) return { ok: true, value };
  return { ok: false, reason: `nicknames are 1-${maxLength} letters, digits, spaces, "_", "-" or "."` };
}
