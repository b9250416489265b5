import fc from 'fast-check';
import { backoffDelay } from '../../../code/util/backoff';

describe('backoffDelay', () => {
  it('stays between the floor and the capped exponential ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelay(attempt, { baseMs: 50, maxMs: 1000, floorMs: 10 }, () => r);
          return delay >= 10 && delay <= Math.min(1000, 50 * 2 ** attempt);
        },
      ),
    );
  });

  it('doubles the ceiling per attempt up to the maximum, from 0 unless a floor is given', () => {
    const top = (attempt: number) => backoffDelay(attempt, { baseMs: 50, maxMs: 1000 }, () => 1);
    expect([0, 1, 2, 3, 4, 5, 99].map(top)).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { baseMs: 50, maxMs: 1000 }, () => 0)).toBe(0);
    expect(backoffDelay(3, { baseMs: 500, maxMs: 15_000, floorMs: 500 }, () => 0)).toBe(500);
  });
});
