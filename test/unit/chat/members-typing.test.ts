import { issueToken } from '../../../code/chat/token';
import { TEST_LIMITS } from '../../helpers/fakes';
import { setupChat as setup } from '../../helpers/chat-commands';

/** The members and typing commands and identity tags in the core, on in-memory ports and a fake clock. */

describe('members', () => {
  it('pages with a sealed cursor, refuses one it did not make, and leaves out the stale', async () => {
    const { connect, send, push, advance } = setup();
    await connect('stale=', { nick: 'stale' });
    advance(TEST_LIMITS.connectionTtlMs + 1);
    for (const id of ['a=', 'b=', 'c=']) await connect(id, { nick: id.slice(0, 1) });
    push.clear();
    await send('a=', { type: 'members', limit: 2, ref: 'p1' });
    const [first] = push.to('a=');
    expect(first).toMatchObject({ type: 'members', ref: 'p1', room: 'lobby' });
    expect(first!.next).toEqual(expect.any(String));
    expect(first!.next).not.toContain('=');
    await send('a=', { type: 'members', limit: 2, after: first!.next, ref: 'p2' });
    const second = push.to('a=')[1]!;
    expect(second.next).toBeUndefined();
    const nicks = [
      ...(first!.members as Array<{ nick: string }>),
      ...(second.members as Array<{ nick: string }>),
    ]
      .map((m) => m.nick)
      .sort();
    expect(nicks).toEqual(['a', 'b', 'c']);

    const tampered = `${String(first!.next).slice(0, -2)}AA`;
    await send('a=', { type: 'members', after: tampered, ref: 'bad' });
    expect(push.to('a=')[2]).toMatchObject({ type: 'error', code: 'invalid_cursor', ref: 'bad' });
  });
});

describe('typing', () => {
  it('goes to the others in the room, once per interval, and not at all above the presence cap', async () => {
    const { connect, send, push, advance } = setup({ presenceMaxOnline: 3 });
    await connect('a=', { nick: 'ann', key: 'k'.repeat(22) });
    await connect('b=', { nick: 'bo' });
    push.clear();
    await send('a=', { type: 'typing' });
    await send('a=', { type: 'typing' });
    expect(push.to('b=')).toEqual([expect.objectContaining({ type: 'typing', nick: 'ann', room: 'lobby' })]);
    expect(push.to('a=')).toEqual([]);
    advance(3000);
    await send('a=', { type: 'typing' });
    expect(push.to('b=')).toHaveLength(2);

    await connect('c=');
    await connect('d=');
    push.clear();
    advance(3000);
    await send('a=', { type: 'typing' });
    expect(push.sent.filter((p) => p.frame.type === 'typing')).toEqual([]);
  });
});

describe('identity tags', () => {
  it('comes from the key, the same on a new connection, and from the token nick with access control', async () => {
    const key = 'k'.repeat(30);
    const { connect, registry } = setup();
    await connect('a=', { nick: 'ann', key });
    await connect('b=', { nick: 'ann', key });
    await connect('c=', { nick: 'ann', key: 'j'.repeat(30) });
    const tagOf = async (id: string) => (await registry.find(id))!.tag;
    expect(await tagOf('a=')).toBe(await tagOf('b='));
    expect(await tagOf('c=')).not.toBe(await tagOf('a='));

    const secret = 'an-auth-secret';
    const guarded = setup({ authSecret: secret });
    const token = issueToken(secret, { nick: 'ann', room: 'lobby', ttlSeconds: 600 }, 1_800_000_000_000);
    await guarded.connect('x=', { token, key });
    await guarded.connect('y=', { token });
    const guardedTag = async (id: string) => (await guarded.registry.find(id))!.tag;
    expect(await guardedTag('x=')).toBe(await guardedTag('y='));
  });
});
