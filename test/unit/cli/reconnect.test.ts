import fc from 'fast-check';
import {
  MAX_DELAY_MS,
  MAX_REFUSALS,
  MIN_DELAY_MS,
  reconnectDelay,
  Reconnector,
} from '../../../scripts/cli/reconnect';

describe('reconnectDelay', () => {
  it('stays within 0.5 s and 15 s for any attempt and any random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const delay = reconnectDelay(attempt, () => r);
          return delay >= MIN_DELAY_MS && delay <= MAX_DELAY_MS;
        },
      ),
    );
    expect(MIN_DELAY_MS).toBe(500);
    expect(MAX_DELAY_MS).toBe(15_000);
  });

  it('grows exponentially up to the cap', () => {
    const top = (attempt: number) => reconnectDelay(attempt, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 40].map(top)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(reconnectDelay(7, () => 0)).toBe(500);
  });

  it('is jittered: different random values give different delays', () => {
    expect(reconnectDelay(4, () => 0.25)).toBe(2375);
    expect(reconnectDelay(4, () => 0.75)).toBe(6125);
  });
});

describe('Reconnector', () => {
  const network = { reason: 'connect ECONNREFUSED' };

  it('backs off on network failures and starts over once joined', () => {
    const reconnector = new Reconnector(() => 1);
    expect([1, 2, 3].map(() => reconnector.failed(network))).toEqual([
      { action: 'retry', delayMs: 500 },
      { action: 'retry', delayMs: 1000 },
      { action: 'retry', delayMs: 2000 },
    ]);
    reconnector.joined();
    expect(reconnector.failed(network)).toEqual({ action: 'retry', delayMs: 500 });
  });

  it('keeps growing the delay when connections open but never get joined (a flapping server)', () => {
    const reconnector = new Reconnector(() => 1);
    reconnector.failed(network);
    reconnector.opened();
    expect(reconnector.failed({ reason: 'connection closed (1006)' })).toEqual({
      action: 'retry',
      delayMs: 1000,
    });
  });

  it('gives up at once when a token is missing or rejected', () => {
    const reconnector = new Reconnector();
    reconnector.joined();
    expect(reconnector.failed({ status: 403, reason: 'unauthorized: token required' })).toEqual({
      action: 'give-up',
      reason: 'the server refused the connection (403): unauthorized: token required',
    });
    expect(new Reconnector().failed({ status: 401, reason: '' })).toMatchObject({ action: 'give-up' });
  });

  it('gives up on a first refusal (a bad nick or room) unless the server says to try again', () => {
    expect(new Reconnector().failed({ status: 403, reason: 'nicknames are 1-24 letters' })).toMatchObject({
      action: 'give-up',
    });
    expect(
      new Reconnector().failed({ status: 403, reason: 'connection registry unavailable, try again' }),
    ).toMatchObject({ action: 'retry' });
  });

  it('after having been in, allows a few refusals in a row before giving up', () => {
    const reconnector = new Reconnector();
    reconnector.joined();
    const refused = { status: 403, reason: 'connection registry unavailable' };
    for (let i = 1; i < MAX_REFUSALS; i += 1) expect(reconnector.failed(refused).action).toBe('retry');
    expect(reconnector.failed(refused)).toEqual({
      action: 'give-up',
      reason: `the server refused the connection ${MAX_REFUSALS} times in a row (403): connection registry unavailable`,
    });
  });

  it('does not count refusals separated by other failures as in a row', () => {
    const reconnector = new Reconnector();
    reconnector.joined();
    const refused = { status: 403, reason: 'busy' };
    for (let i = 0; i < MAX_REFUSALS * 2; i += 1) {
      expect(reconnector.failed(refused).action).toBe('retry');
      expect(reconnector.failed(network).action).toBe('retry');
    }
    expect(reconnector.failed({ status: 502, reason: 'register function failed' }).action).toBe('retry');
  });
});
