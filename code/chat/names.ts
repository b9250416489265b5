/**
 * Rules for room names and nicknames. Browser-safe (no Node imports): the web client checks with the same code
 * before connecting, because a name refused at connect time reaches a browser only as a failed handshake.
 */

export const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Combining marks one letter or digit may carry: enough for any script's accents and vowel signs, no stacks. */
export const MAX_MARKS_PER_CHARACTER = 4;
// Letters and digits of any script, each with up to MAX_MARKS_PER_CHARACTER combining marks, plus a few
// separators. Nothing else: no control, markup, invisible or bidi control characters (U+061C, U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069 are format characters, \p{Cf}), and no mark without a letter or digit to carry it.
const NICKNAME = /^(?:[\p{L}\p{N}]\p{M}{0,4}|[_.\- ])+$/u; // {0,4}: MAX_MARKS_PER_CHARACTER

export type NameCheck = { ok: true; value: string } | { ok: false; reason: string };

export function checkRoomName(input: string): NameCheck {
  const value = input.trim().toLowerCase();
  if (ROOM_NAME.test(value)) return { ok: true, value };
  return {
    ok: false,
    reason: 'room names are 1-32 characters: a-z, 0-9, "_" and "-", starting with a letter or digit',
  };
}

/** A room as a person types it: "#dev" or " dev " is dev. */
export function checkRoomInput(input: string): NameCheck {
  return checkRoomName(input.trim().replace(/^#/, ''));
}

export function checkNickname(input: string, maxLength: number): NameCheck {
  const value = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  const length = Array.from(value).length;
  if (length >= 1 && length <= maxLength && NICKNAME.test(value)) return { ok: true, value };
  return {
    ok: false,
    reason: `nicknames are 1-${maxLength} letters, digits, spaces, "_", "-" or ".", with at most ${MAX_MARKS_PER_CHARACTER} accents on a letter`,
  };
}
