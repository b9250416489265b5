import { issueToken } from '../../../code/chat/token';
import { readTokenClaims } from '../../../scripts/cli/claims';

describe('readTokenClaims', () => {
  it('reads nick and room from a token without needing the secret', () => {
    const token = issueToken('secret', { nick: 'Zoë', room: 'vip', ttlSeconds: 60 });
    expect(readTokenClaims(token)).toEqual({ nick: 'Zoë', room: 'vip' });
  });

  it.each(['', 'garbage', 'bm90IGpzb24.sig', `${Buffer.from('[1,2]').toString('base64url')}.sig`])(
    'returns nothing for %j',
    (token) => {
      expect(readTokenClaims(token)).toEqual({});
    },
  );
});
