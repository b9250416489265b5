/**
 * Strict, unpadded base64url (RFC 4648 §5), the one codec for connect tokens on the server, in the web page and in
 * the terminal client. Browser-safe: no Node imports.
 *
 * Strict means every byte string has exactly one encoding: `decode` refuses padding, characters outside the
 * alphabet, impossible lengths, and non-zero spare bits in the last character. Node's `Buffer.from(s, 'base64')`
 * ignores those bits, so four different last characters decoded to the same signature and a token had four
 * accepted spellings.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES: ReadonlyMap<string, number> = new Map(Array.from(ALPHABET, (char, index) => [char, index]));

export function encodeBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

/** The bytes of a canonical unpadded base64url string; undefined for anything else. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  const tail = text.length % 4;
  if (tail === 1) return undefined;
  const out = new Uint8Array(Math.floor(text.length / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  let bits = 0;
  let buffered = 0;
  let o = 0;
  for (const char of text) {
    const value = VALUES.get(char);
    if (value === undefined) return undefined;
    bits = (bits << 6) | value;
    buffered += 6;
    if (buffered >= 8) {
      buffered -= 8;
      out[o++] = (bits >>> buffered) & 0xff;
      bits &= (1 << buffered) - 1;
    }
  }
  // Whatever is left over must be zero, or a second spelling of the same bytes would decode too.
  if (bits !== 0) return undefined;
  return out;
}

export function encodeTextBase64Url(text: string): string {
  return encodeBase64Url(new TextEncoder().encode(text));
}

/** Decodes to UTF-8 text; undefined unless the input is canonical base64url of valid UTF-8. */
export function decodeTextBase64Url(text: string): string | undefined {
  const bytes = decodeBase64Url(text);
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
