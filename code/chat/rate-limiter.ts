import { createLru } from '../util/lru';
/**
 * Token bucket per connection, kept in the memory of one warm container. SCF may run several containers of the
 * transport function at once and each keeps its own buckets, so across containers this is a best-effort limit:
 * a client gets at most `burst + rate * t` messages through per container that happens to serve it.
 */
export interface RateLimiter {
  /** True if the connection may send now (and takes a token). */
  take(connectionId: string, now: number): boolean;
}

const MAX_TRACKED = 10_000;

export function createRateLimiter(ratePerSecond: number, burst: number): RateLimiter {
  const buckets = createLru<string, { tokens: number; at: number }>(MAX_TRACKED);
  return {
    take(connectionId, now) {
      const bucket = buckets.get(connectionId) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
      bucket.at = now;
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      buckets.set(connectionId, bucket);
      return allowed;
    },
  };
}
