import fc from 'fast-check';
import {
  decodeBase64Url,
  decodeTextBase64Url,
  encodeBase64Url,
  encodeTextBase64Url,
} from '../../../code/chat/base64url';
import { issueToken, verifyToken } from '../../../code/chat/token';
// The terminal client reads claims with the core's reader.
import { readTokenClaims as readCliClaims } from '../../../code/chat/token-claims';
import { readTokenClaims as readWebClaims } from '../../../web/util';

/** Issue #15, finding 1: a token must have exactly one accepted spelling. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const NOW = 1_800_000_000_000;

/** Every string that differs from `token` in one of the last `count` characters of each part, or by padding. */
function nearSpellings(token: string, count = 4): string[] {
  const variants = new Set<string>();
  const dot = token.indexOf('.');
  const ends = [dot, token.length];
  for (const end of ends) {
    for (let at = Math.max(0, end - count); at < end; at += 1) {
      for (const char of ALPHABET + '=+/.') {
        variants.add(token.slice(0, at) + char + token.slice(at + 1));
      }
    }
  }
  for (const pad of ['=', '==']) {
    variants.add(`${token}${pad}`);
    variants.add(`${token.slice(0, dot)}${pad}${token.slice(dot)}`);
  }
  variants.delete(token);
  return [...variants];
}

describe('strict base64url', () => {
  it('regression: the spare bits of the last signature character are not ignored', () => {
    const token = issueToken('secret', { nick: 'alice', room: 'lobby', ttlSeconds: 60 }, NOW);
    // A 32-byte HMAC is 43 characters: the last carries 4 data bits and 2 spare bits, so three other
    // characters used to decode to the same signature.
    const last = token[token.length - 1]!;
    const base = ALPHABET.indexOf(last) & ~3;
    const twins = [0, 1, 2, 3].map((spare) => ALPHABET[base + spare]!).filter((c) => c !== last);
    expect(twins).toHaveLength(3);
    for (const twin of twins) {
      const forged = token.slice(0, -1) + twin;
      expect(Buffer.from(forged.split('.')[1]!, 'base64')).toEqual(
        Buffer.from(token.split('.')[1]!, 'base64'),
      );
      expect(verifyToken('secret', forged, NOW)).toEqual({ ok: false, reason: 'malformed token' });
    }
    expect(verifyToken('secret', token, NOW).ok).toBe(true);
  });

  it('refuses padding, standard-alphabet characters and impossible lengths', () => {
    expect(decodeBase64Url('YQ')).toEqual(new Uint8Array([0x61]));
    for (const bad of ['YQ==', 'YR', 'Y', 'YQ=', 'a+b/', 'ab cd', 'ab\n', 'é', 'YWJj\u0000']) {
      expect(decodeBase64Url(bad)).toBeUndefined();
    }
    expect(decodeTextBase64Url(encodeBase64Url(new Uint8Array([0xff, 0xfe])))).toBeUndefined();
  });

  it('matches Node for every byte string, and decode(encode(b)) = b', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('has one spelling per byte string: whatever decodes re-encodes to itself', () => {
    const chars = fc.constantFrom(...(ALPHABET + '=+/.').split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (list) => {
        const text = list.join('');
        const bytes = decodeBase64Url(text);
        if (bytes !== undefined) expect(encodeBase64Url(bytes)).toBe(text);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips any text through the text helpers', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        expect(decodeTextBase64Url(encodeTextBase64Url(text))).toBe(text);
      }),
    );
  });
});

describe('verifyToken accepts exactly one string per token', () => {
  const claims = fc.record({
    nick: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
    room: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    ttlSeconds: fc.integer({ min: 1, max: 604_800 }),
  });
  const secret = fc.string({ minLength: 1, maxLength: 40 });

  it('every near spelling of a valid token is refused', () => {
    fc.assert(
      fc.property(secret, claims, (key, granted) => {
        const token = issueToken(key, granted, NOW);
        expect(verifyToken(key, token, NOW).ok).toBe(true);
        for (const variant of nearSpellings(token)) {
          expect(verifyToken(key, variant, NOW).ok).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('any other string, anywhere edited, is refused', () => {
    fc.assert(
      fc.property(
        secret,
        claims,
        fc.nat(),
        fc.constantFrom(...(ALPHABET + '=.').split('')),
        fc.constantFrom('replace', 'insert', 'delete'),
        (key, granted, position, char, edit) => {
          const token = issueToken(key, granted, NOW);
          const at = position % token.length;
          const candidate =
            edit === 'replace'
              ? token.slice(0, at) + char + token.slice(at + 1)
              : edit === 'insert'
                ? token.slice(0, at) + char + token.slice(at)
                : token.slice(0, at) + token.slice(at + 1);
          expect(verifyToken(key, candidate, NOW).ok).toBe(candidate === token);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('claims readers use the same codec', () => {
  it('the web page and the CLI read claims only from the canonical spelling', () => {
    const token = issueToken('secret', { nick: 'Zoë', room: 'vip', ttlSeconds: 60 }, NOW);
    expect(readWebClaims(token)).toEqual({ nick: 'Zoë', room: 'vip', exp: NOW / 1000 + 60 });
    expect(readCliClaims(token)).toEqual({ nick: 'Zoë', room: 'vip', exp: NOW / 1000 + 60 });
    const payload = token.split('.')[0]!;
    for (const bad of [`${payload}=.sig`, `${payload}+.sig`, `${payload}!.sig`]) {
      expect(readWebClaims(bad)).toBeUndefined();
      expect(readCliClaims(bad)).toBeUndefined();
    }
  });
});
