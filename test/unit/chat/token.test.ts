import { issueToken, secretsEqual, verifyToken } from '../../../code/chat/token';
import { createRateLimiter } from '../../../code/chat/rate-limiter';

describe('connect tokens', () => {
  const now = 1_800_000_000_000;
  const token = issueToken('secret', { nick: 'alice', room: 'lobby', ttlSeconds: 60 }, now);

  it('verify with the right secret before expiry', () => {
    expect(verifyToken('secret', token, now + 59_000)).toEqual({
      ok: true,
      claims: { nick: 'alice', room: 'lobby', exp: now / 1000 + 60 },
    });
  });

  it('fail when expired, tampered, signed with another secret, malformed or missing', () => {
    expect(verifyToken('secret', token, now + 60_000)).toEqual({ ok: false, reason: 'token expired' });
    const [payload, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ nick: 'admin', room: 'lobby', exp: 9e9 })).toString(
      'base64url',
    );
    expect(verifyToken('secret', `${forged}.${signature}`, now)).toEqual({
      ok: false,
      reason: 'bad token signature',
    });
    expect(verifyToken('other', token, now)).toEqual({ ok: false, reason: 'bad token signature' });
    expect(verifyToken('secret', `${payload}`, now)).toEqual({ ok: false, reason: 'malformed token' });
    expect(verifyToken('secret', undefined, now)).toEqual({ ok: false, reason: 'token required' });
  });

  it('compares shared secrets exactly', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('', 'abc')).toBe(false);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then the sustained rate, per connection', () => {
    const limiter = createRateLimiter(2, 3);
    const t = 1000;
    expect([1, 2, 3, 4].map(() => limiter.take('a', t))).toEqual([true, true, true, false]);
    expect(limiter.take('b', t)).toBe(true);
    expect(limiter.take('a', t + 499)).toBe(false);
    expect(limiter.take('a', t + 500)).toBe(true);
  });
});
