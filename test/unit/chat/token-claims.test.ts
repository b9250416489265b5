import { issueToken } from '../../../code/chat/token';
import { readTokenClaims } from '../../../code/chat/token-claims';

describe('readTokenClaims', () => {
  it('reads nick, room and expiry from a token without needing the secret', () => {
    const token = issueToken('secret', { nick: 'Zoë', room: 'vip', ttlSeconds: 60 }, 1_800_000_000_000);
    expect(readTokenClaims(token)).toEqual({ nick: 'Zoë', room: 'vip', exp: 1_800_000_060 });
  });

  it.each(['', 'garbage', 'bm90IGpzb24.sig', `${Buffer.from('[1,2]').toString('base64url')}.sig`, '***.sig'])(
    'returns nothing for %j',
    (token) => {
      expect(readTokenClaims(token)).toBeUndefined();
    },
  );

  it('leaves out claims of the wrong type, and inherited ones', () => {
    const payload = Buffer.from('{"nick":7,"room":"","exp":"soon"}').toString('base64url');
    expect(readTokenClaims(`${payload}.sig`)).toEqual({});
    const inherited = Buffer.from('{"__proto__":{"nick":"root"}}').toString('base64url');
    expect(readTokenClaims(`${inherited}.sig`)).toEqual({});
  });
});
