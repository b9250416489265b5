import { verifyToken } from '../../code/chat/token';
import { createPublishHandler } from '../../code/functions/publish';
import { fakeContainer } from '../helpers/fake-container';

/** Issue #15, finding 6: `/token` takes `ttlSeconds` only as a JSON integer in range. */

const SECRET = 'auth-secret';

function tokenHandler() {
  const { container } = fakeContainer({ PUBLISH_TOKEN: 'tok', AUTH_SECRET: SECRET });
  const handler = createPublishHandler(() => container);
  return (body: string) =>
    handler({
      httpMethod: 'POST',
      path: '/token',
      headers: { Authorization: 'Bearer tok' },
      body,
    });
}

describe('/token ttlSeconds', () => {
  const request = tokenHandler();

  it.each([
    ['true', true],
    ['a numeric string', '60'],
    ['null', null],
    ['a fraction', 1.5],
    ['zero', 0],
    ['a negative number', -60],
    ['more than a week', 604_801],
    ['an array', [60]],
    ['an object', { value: 60 }],
  ])('refuses %s', async (_name, ttlSeconds) => {
    const reply = await request(JSON.stringify({ nick: 'alice', room: 'lobby', ttlSeconds }));
    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: 'bad_request',
      message: '"ttlSeconds" must be an integer from 1 to 604800',
    });
  });

  it.each([1, 60, 604_800])('accepts the integer %d and the token lives that long', async (ttlSeconds) => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await request(JSON.stringify({ nick: 'alice', room: 'lobby', ttlSeconds }));
    const after = Math.floor(Date.now() / 1000);
    expect(reply.statusCode).toBe(200);
    const { token } = JSON.parse(reply.body) as { token: string };
    const check = verifyToken(SECRET, token, before * 1000);
    if (!check.ok) throw new Error(check.reason);
    expect(check.claims.exp).toBeGreaterThanOrEqual(before + ttlSeconds);
    expect(check.claims.exp).toBeLessThanOrEqual(after + ttlSeconds);
  });

  it('uses one hour when ttlSeconds is absent', async () => {
    const reply = await request(JSON.stringify({ nick: 'alice', room: 'lobby' }));
    expect(reply.statusCode).toBe(200);
  });
});
