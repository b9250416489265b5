/**
 * Exponential backoff with "full jitter": attempt n (from 0) waits a random time between `floorMs` and
 * min(maxMs, baseMs * 2^n), so that clients or pushes that failed together do not retry together.
 * Browser-safe; `random` is injectable for tests.
 */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** The shortest wait; 0 unless given. */
  floorMs?: number;
}

export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const floor = backoff.floorMs ?? 0;
  // The exponent is capped so that 2^n stays finite however many attempts a long outage makes.
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const r = Math.min(Math.max(random(), 0), 1);
  return floor + r * Math.max(0, ceiling - floor);
}
