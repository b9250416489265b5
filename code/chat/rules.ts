import { createHash } from 'crypto';
import { ProtocolError } from './protocol';
import { checkNickname, checkRoomName } from './names';

/** Server-side rules for names and text. Limits come from configuration (see code/config.ts). */

// A lone surrogate cannot be encoded as UTF-8: it is what invalid UTF-8 looks like once decoded.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0/C1 controls other than tab and newline.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// Bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO): an override shows letters in an order other than the
// one typed ("exe.pdf" for "fdp.exe"), and an unclosed embedding spills into whatever is shown after the message.
const BIDI_EMBEDDING_OR_OVERRIDE = /[\u202A-\u202E]/;
// Bidi isolates (LRI, RLI, FSI) and their terminator (PDI): legitimate in mixed-direction text, but only closed.
const BIDI_ISOLATE = /[\u2066-\u2069]/;
// Where the bidi algorithm ends a paragraph (and closes isolates) in text that passed CONTROL: newline and U+2029.
const PARAGRAPH_END = /[\n\u2029]/;

/** Every isolate initiator is closed by a PDI in the same paragraph, and no PDI closes what was never opened. */
function isolatesBalanced(text: string): boolean {
  if (!BIDI_ISOLATE.test(text)) return true;
  let open = 0;
  for (const char of text) {
    if (char >= '\u2066' && char <= '\u2068') open += 1;
    else if (char === '\u2069') {
      if (open === 0) return false;
      open -= 1;
    } else if (PARAGRAPH_END.test(char) && open > 0) return false;
  }
  return open === 0;
}

export function normalizeRoom(room: string, ref?: string): string {
  const check = checkRoomName(room);
  if (!check.ok) throw new ProtocolError('invalid_room', check.reason, ref);
  return check.value;
}

export function normalizeNick(nick: string, maxLength: number, ref?: string): string {
  const check = checkNickname(nick, maxLength);
  if (!check.ok) throw new ProtocolError('invalid_nick', check.reason, ref);
  return check.value;
}

export function checkText(text: string, maxBytes: number, ref?: string): string {
  if (text.trim().length === 0) throw new ProtocolError('empty_message', 'message is empty', ref);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new ProtocolError('too_large', `message is ${bytes} bytes; the limit is ${maxBytes}`, ref);
  }
  if (LONE_SURROGATE.test(text)) throw new ProtocolError('bad_frame', 'message is not valid UTF-8', ref);
  if (CONTROL.test(text)) throw new ProtocolError('bad_frame', 'message contains control characters', ref);
  if (BIDI_EMBEDDING_OR_OVERRIDE.test(text)) {
    throw new ProtocolError('bad_frame', 'message contains bidi embedding or override characters', ref);
  }
  if (!isolatesBalanced(text)) {
    throw new ProtocolError(
      'bad_frame',
      'message contains a bidi isolate that is not closed on its line',
      ref,
    );
  }
  return text;
}

/** Four hex digits derived from the connection ID: stable for a connection, hard to collide by accident. */
export function tagOf(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('hex').slice(0, 4);
}

export function guestNick(connectionId: string): string {
  return `guest-${tagOf(connectionId)}`;
}
