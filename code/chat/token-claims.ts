import { ownField, ownString, parseJsonObject } from '../util/json';
import { decodeTextBase64Url } from './base64url';

/**
 * What a connect token (`<base64url JSON claims>.<signature>`, see token.ts) says, read WITHOUT checking its
 * signature (only the server can): clients use it to show who they will be, join the token's room and explain
 * an expiry. Browser-safe.
 */
export interface UnverifiedClaims {
  nick?: string;
  room?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

/** The claims, each only when present and of the right type; undefined when the token cannot be read. */
export function readTokenClaims(token: string): UnverifiedClaims | undefined {
  // The server's strict codec: what it would refuse as malformed is not read here either.
  const payload = decodeTextBase64Url(token.split('.')[0] ?? '');
  const claims = payload === undefined ? undefined : parseJsonObject(payload);
  if (!claims) return undefined;
  const nick = ownString(claims, 'nick');
  const room = ownString(claims, 'room');
  const exp = ownField(claims, 'exp');
  return {
    ...(nick ? { nick } : {}),
    ...(room ? { room } : {}),
    ...(typeof exp === 'number' ? { exp } : {}),
  };
}
