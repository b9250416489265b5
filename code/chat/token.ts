import { createHmac, timingSafeEqual } from 'crypto';
import { decodeBase64Url, decodeTextBase64Url, encodeBase64Url, encodeTextBase64Url } from './base64url';

/**
 * Signed connect tokens: `<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`. A backend that knows AUTH_SECRET
 * issues them; register verifies them. Only token characters, so a token fits in Sec-WebSocket-Protocol.
 */

export interface TokenClaims {
  nick: string;
  room: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function issueToken(
  secret: string,
  claims: { nick: string; room: string; ttlSeconds: number },
  now = Date.now(),
): string {
  const payload = encodeTextBase64Url(
    JSON.stringify({ nick: claims.nick, room: claims.room, exp: Math.floor(now / 1000) + claims.ttlSeconds }),
  );
  return `${payload}.${encodeBase64Url(sign(secret, payload))}`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

export function verifyToken(secret: string, token: string | undefined, now = Date.now()): TokenCheck {
  if (!token) return { ok: false, reason: 'token required' };
  const parts = token.split('.');
  if (parts.length !== 2) return { ok: false, reason: 'malformed token' };
  const [payload, signature] = parts as [string, string];
  // Strict decoding: a signature has one spelling, so a token has exactly one accepted string.
  const given = decodeBase64Url(signature);
  const json = decodeTextBase64Url(payload);
  if (given === undefined || json === undefined || payload === '' || signature === '') {
    return { ok: false, reason: 'malformed token' };
  }
  const expected = sign(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad token signature' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  const { nick, room, exp } = (claims ?? {}) as Partial<TokenClaims>;
  if (
    typeof nick !== 'string' ||
    typeof room !== 'string' ||
    typeof exp !== 'number' ||
    !Number.isFinite(exp)
  ) {
    return { ok: false, reason: 'malformed token' };
  }
  if (exp * 1000 <= now) return { ok: false, reason: 'token expired' };
  return { ok: true, claims: { nick, room, exp } };
}

/** Constant-time comparison for shared secrets (the publish API's bearer token). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'compare').update(given).digest();
  const b = createHmac('sha256', 'compare').update(expected).digest();
  return timingSafeEqual(a, b);
}
