/** How long a connect token may be valid: the bounds of the publish API's POST /token and of `npm run token`. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 7 * 86400;

export function isTokenTtl(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_TOKEN_TTL_SECONDS;
}
