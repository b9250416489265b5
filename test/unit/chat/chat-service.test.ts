import { createChatService, type ChatDeps } from '../../../code/chat/chat-service';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import { issueToken } from '../../../code/chat/token';
import { silentLogger } from '../../../code/chat/log';
import { StoreError } from '../../../code/util/store-error';
import { connectProtocols } from '../../../code/chat/protocol';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from '../../helpers/fakes';

function setup(overrides: Partial<ChatDeps['settings']> = {}) {
  let now = 1_800_000_000_000;
  const clock = () => now;
  const registry = new MemoryRegistry(clock);
  const history = new MemoryHistory();
  const push = new RecordingPush();
  const limits = overrides.limits ?? TEST_LIMITS;
  /** A warm container of the function; several may share the stores, as SCF instances share COS. */
  const container = () =>
    createChatService({
      registry,
      history,
      push,
      rateLimiter: createRateLimiter(limits.ratePerSecond, limits.rateBurst),
      settings: {
        limits: TEST_LIMITS,
        defaultRoom: 'lobby',
        pushConcurrency: 4,
        broadcastBudgetMs: 5000,
        ...overrides,
      },
      log: silentLogger,
      clock,
    });
  const chat = container();
  const otherContainer = container;
  const connect = (id: string, options: { room?: string; nick?: string; token?: string } = {}) =>
    chat.connect({ connectionId: id, protocols: connectProtocols(options) });
  const send = (id: string, data: string) => chat.receive({ connectionId: id, frameType: 'text', data });
  /** What our clients do: connect, then join the room they connected to (their arrival is announced then). */
  const arrive = async (id: string, options: { room?: string; nick?: string } = {}) => {
    await connect(id, options);
    await send(id, JSON.stringify({ type: 'join', room: options.room ?? 'lobby' }));
  };
  return {
    arrive,
    chat,
    registry,
    history,
    push,
    connect,
    send,
    otherContainer,
    advance: (ms: number) => (now += ms),
  };
}

describe('chat service', () => {
  it('broadcasts a message to every other member of the room and acknowledges the sender', async () => {
    const { connect, send, push } = setup();
    await connect('a=', { nick: 'alice' });
    await connect('b=');
    await connect('c=', { room: 'other' });
    push.clear();
    await send('a=', 'hello');
    const [received] = push.to('b=');
    expect(received).toMatchObject({
      v: 1,
      type: 'message',
      from: 'alice',
      text: 'hello',
      room: 'lobby',
      online: 2,
    });
    expect(typeof received!.id).toBe('string');
    expect(typeof received!.ts).toBe('number');
    expect(push.to('c=')).toEqual([]);
    expect(push.to('a=')).toEqual([
      expect.objectContaining({ type: 'ack', for: 'message', delivered: 1, online: 2 }),
    ]);
  });

  it('does not read the sender’s record again for later messages in the same container', async () => {
    const { connect, send, registry } = setup();
    await connect('a=');
    await connect('b=');
    await send('a=', 'first');
    const reads = registry.finds;
    await send('a=', 'second');
    await send('a=', 'third');
    expect(registry.finds).toBe(reads);
  });

  it('notices a nick or room changed by another container before using what it remembered', async () => {
    const { connect, send, push, otherContainer } = setup();
    await connect('a=', { nick: 'alice' });
    await connect('b=');
    await connect('c=', { room: 'dev' });
    await send('a=', 'first');
    const other = otherContainer();
    await other.receive({ connectionId: 'a=', frameType: 'text', data: '{"type":"nick","nick":"alicia"}' });
    push.clear();
    await send('a=', 'renamed elsewhere');
    expect(push.to('b=')).toEqual([expect.objectContaining({ from: 'alicia', text: 'renamed elsewhere' })]);
    await other.receive({ connectionId: 'a=', frameType: 'text', data: '{"type":"join","room":"dev"}' });
    push.clear();
    await send('a=', 'moved elsewhere');
    expect(push.to('c=')).toEqual([expect.objectContaining({ text: 'moved elsewhere', room: 'dev' })]);
    expect(push.to('b=')).toEqual([]);
  });

  it('prunes connections the gateway reports gone and does not count them', async () => {
    const { connect, send, push, registry } = setup();
    await connect('a=');
    await connect('b=');
    await connect('dead=');
    push.gone.add('dead=');
    await send('a=', 'hi');
    expect(registry.memberIds('lobby')).toEqual(['a=', 'b=']);
    expect(push.to('a=').at(-1)).toMatchObject({ type: 'ack', delivered: 1, online: 2 });
    // The record stays until the sweep finds it without a membership past the TTL.
    expect(registry.records.has('dead=')).toBe(true);
  });

  it('sweeps room log entries once no roster can need them', async () => {
    const { connect, registry, chat, advance } = setup();
    await connect('a=');
    await connect('b=', { room: 'dev' });
    await chat.disconnect({ connectionId: 'b=' });
    expect((await chat.sweep()).trimmedLogEntries).toBe(0);
    expect(registry.log).toHaveLength(3);
    // Retention: at least ten minutes (TTL 15 min: full listings every minute, 6 s overlap).
    advance(10 * 60_000 + 1);
    await connect('c=');
    expect((await chat.sweep()).trimmedLogEntries).toBe(3);
    expect(registry.log.map((e) => e.id)).toEqual(['c=']);
  });

  it('sweeps the records of pruned connections once they are past the TTL', async () => {
    const { connect, send, push, registry, chat, advance } = setup();
    await connect('a=');
    await connect('dead=');
    push.gone.add('dead=');
    await send('a=', 'hi');
    advance(TEST_LIMITS.connectionTtlMs / 2);
    await send('a=', '{"type":"ping"}');
    expect((await chat.sweep()).orphanRecords).toBe(0);
    advance(TEST_LIMITS.connectionTtlMs / 2 + 1);
    await send('a=', '{"type":"ping"}');
    expect((await chat.sweep()).orphanRecords).toBe(1);
    expect([...registry.records.keys()]).toEqual(['a=']);
  });

  it('brings a pruned but living connection back into its own room with its own nick', async () => {
    const { connect, push, registry, otherContainer, advance } = setup();
    await connect('a=', { room: 'dev', nick: 'alice' });
    await connect('b=', { room: 'dev' });
    // Pruned a while after it joined (as the sweep prunes), so its join is no longer in the room log's overlap.
    advance(60_000);
    await registry.leave([{ id: 'a=', room: 'dev' }]);
    push.clear();
    // A container whose roster never had it (one that had it sends to it, and its next heartbeat restores it).
    await otherContainer().receive({ connectionId: 'a=', frameType: 'text', data: 'back' });
    expect(push.to('b=')).toEqual([expect.objectContaining({ text: 'back', from: 'alice', room: 'dev' })]);
    expect(registry.memberIds('dev')).toEqual(['a=', 'b=']);
  });

  it('skips and prunes members not seen within the TTL, but keeps the sender', async () => {
    const { connect, send, push, registry, advance } = setup();
    await connect('old=');
    advance(TEST_LIMITS.connectionTtlMs + 1);
    await connect('a=');
    await connect('b=');
    push.clear();
    await send('a=', 'hi');
    expect(push.to('old=')).toEqual([]);
    expect(registry.memberIds('lobby')).toEqual(['a=', 'b=']);
  });

  it('announces joins, leaves and nick changes with the online count', async () => {
    const { arrive, send, push, chat } = setup();
    await arrive('a=', { nick: 'alice' });
    push.clear();
    await arrive('b=', { nick: 'bob' });
    expect(push.to('a=')).toEqual([
      expect.objectContaining({ type: 'presence', event: 'join', nick: 'bob', online: 2 }),
    ]);
    await send('b=', '{"type":"nick","nick":"robert"}');
    expect(push.to('a=').at(-1)).toMatchObject({ event: 'nick', nick: 'robert', previous: 'bob', online: 2 });
    expect(push.to('b=').at(-1)).toMatchObject({ type: 'ack', for: 'nick', nick: 'robert' });
    await chat.disconnect({ connectionId: 'b=' });
    expect(push.to('a=').at(-1)).toMatchObject({ event: 'leave', nick: 'robert', online: 1 });
  });

  it('announces no leave for a client that never spoke (the room never heard it arrive), but removes it', async () => {
    const { arrive, connect, push, chat, registry } = setup();
    await arrive('a=', { nick: 'alice' });
    await connect('probe=', { nick: 'alice' });
    push.clear();
    await chat.disconnect({ connectionId: 'probe=', silent: true });
    expect(push.to('a=')).toEqual([]);
    expect(registry.records.has('probe=')).toBe(false);
    expect(registry.memberIds('lobby')).toEqual(['a=']);
  });

  it('keeps presence lines to rooms up to PRESENCE_MAX_ONLINE; larger rooms still get the count', async () => {
    const { arrive, send, push, chat } = setup({
      limits: { ...TEST_LIMITS, presenceMaxOnline: 2 },
    });
    await arrive('a=', { nick: 'alice' });
    push.clear();
    await arrive('b=', { nick: 'bob' });
    expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'presence', event: 'join', online: 2 })]);
    push.clear();
    await arrive('c=', { nick: 'carol' });
    await send('c=', '{"type":"nick","nick":"caroline"}');
    expect(push.to('a=')).toEqual([]);
    expect(push.to('b=')).toEqual([]);
    expect(push.to('c=').at(-1)).toMatchObject({ type: 'ack', for: 'nick', online: 3 });
    await send('c=', 'hello');
    expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'message', text: 'hello', online: 3 })]);
    // Back at the limit, the room hears about people leaving again.
    await chat.disconnect({ connectionId: 'c=' });
    expect(push.to('a=').at(-1)).toMatchObject({ type: 'presence', event: 'leave', online: 2 });
  });

  it('catches up a big room for counts at most once a second; a small one every time', async () => {
    const { arrive, registry, advance } = setup({ limits: { ...TEST_LIMITS, presenceMaxOnline: 2 } });
    await arrive('a=');
    await arrive('b=');
    let reads = registry.logReads;
    await arrive('c=');
    expect(registry.logReads).toBe(reads + 1);
    // Three now: above PRESENCE_MAX_ONLINE, arrivals within a second share one catch-up.
    reads = registry.logReads;
    await arrive('d=');
    await arrive('e=');
    expect(registry.logReads).toBe(reads);
    advance(1000);
    await arrive('f=');
    expect(registry.logReads).toBe(reads + 1);
  });

  it('moves a connection between rooms, announcing in both and sending the new room’s history', async () => {
    const { connect, send, push, registry } = setup();
    await connect('a=');
    await connect('b=');
    await connect('d=', { room: 'dev' });
    await send('d=', 'earlier in dev');
    push.clear();
    await send('a=', '{"type":"join","room":"Dev","ref":"j"}');
    expect(registry.memberIds('lobby')).toEqual(['b=']);
    expect(registry.memberIds('dev')).toEqual(['a=', 'd=']);
    expect(push.to('b=')).toEqual([expect.objectContaining({ event: 'leave', online: 1 })]);
    expect(push.to('d=')).toEqual([expect.objectContaining({ event: 'join', online: 2 })]);
    const [ack, history] = push.to('a=');
    expect(ack).toMatchObject({ type: 'ack', for: 'join', room: 'dev', ref: 'j', online: 2 });
    expect(history).toMatchObject({
      type: 'history',
      room: 'dev',
      messages: [expect.objectContaining({ text: 'earlier in dev' })],
    });
  });

  it('returns exactly the messages after a cursor, oldest first', async () => {
    const { connect, send, push, history } = setup();
    await connect('a=');
    for (const text of ['one', 'two', 'three']) await send('a=', text);
    push.clear();
    await send('a=', JSON.stringify({ type: 'history', since: history.messages[0]!.id }));
    expect(push.to('a=')[0]).toMatchObject({
      type: 'history',
      messages: [{ text: 'two' }, { text: 'three' }],
      more: false,
    });
  });

  it('names the ref of an oversized frame it refused without parsing', async () => {
    const { connect, send, push } = setup();
    await connect('a=');
    await send('a=', `{"type":"message","ref":"big-1","text":"${'x'.repeat(5000)}"}`);
    expect(push.to('a=')).toEqual([
      expect.objectContaining({ type: 'error', code: 'too_large', ref: 'big-1' }),
    ]);
  });

  it.each([
    ['an oversized message', 'x'.repeat(TEST_LIMITS.maxMessageBytes + 1), 'too_large'],
    ['an oversized frame', `{"type":"message","text":"${'x'.repeat(5000)}"}`, 'too_large'],
    ['an unknown command', '{"type":"dance"}', 'unknown_command'],
    ['an empty message', '   ', 'empty_message'],
    ['a bad nickname', '{"type":"nick","nick":"<script>"}', 'invalid_nick'],
    ['a room escaping the prefix', '{"type":"join","room":"../conn"}', 'invalid_room'],
    ['a bad cursor', '{"type":"history","since":"../x"}', 'invalid_cursor'],
  ])('answers %s with an error envelope and stores nothing', async (_name, data, code) => {
    const { connect, send, push, history } = setup();
    await connect('a=');
    await send('a=', data);
    expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'error', code })]);
    expect(history.messages).toEqual([]);
  });

  it('refuses binary frames with a clear error', async () => {
    const { connect, chat, push } = setup();
    await connect('a=');
    await chat.receive({ connectionId: 'a=', frameType: 'binary', data: 'AAEC' });
    expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'error', code: 'binary_unsupported' })]);
  });

  it('rate-limits a connection that sends too fast', async () => {
    const { connect, send, push } = setup({ limits: { ...TEST_LIMITS, rateBurst: 2, ratePerSecond: 1 } });
    await connect('a=');
    for (let i = 0; i < 3; i += 1) await send('a=', `m${i}`);
    await send('a=', '{"type":"message","text":"m3","ref":"r3"}');
    expect(push.to('a=').map((f) => f.type)).toEqual(['ack', 'ack', 'error', 'error']);
    expect(push.to('a=')[2]).toMatchObject({ code: 'rate_limited' });
    expect(push.to('a=')[3]).toMatchObject({ code: 'rate_limited', ref: 'r3' });
  });

  it('lists the room while the message is stored, and pushes only once it is stored', async () => {
    const { connect, send, push, registry, history } = setup();
    await connect('a=');
    await connect('b=');
    const order: string[] = [];
    const append = history.append.bind(history);
    history.append = async (message) => {
      order.push('store started');
      await new Promise((resolve) => setTimeout(resolve, 20));
      await append(message);
      order.push('stored');
    };
    const members = registry.members.bind(registry);
    registry.members = (room) => {
      order.push('listing started');
      return members(room);
    };
    const pushSend = push.send.bind(push);
    push.send = (connectionId, text) => {
      order.push(`push to ${connectionId}`);
      return pushSend(connectionId, text);
    };
    await send('a=', 'hello');
    expect(order).toEqual(['store started', 'listing started', 'stored', 'push to b=', 'push to a=']);
  });

  it('keeps the message in history and tells the sender when the room cannot be listed', async () => {
    const { connect, send, push, registry, history } = setup();
    await connect('a=');
    registry.failNext.members = new Error('COS down');
    await send('a=', '{"type":"message","text":"important","ref":"m1"}');
    expect(history.messages.map((m) => m.text)).toEqual(['important']);
    expect(push.to('a=')).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'store_unavailable',
        ref: 'm1',
        message: expect.stringContaining('saved in history'),
      }),
    ]);
  });

  it('answers an internal failure with a generic error, never a stack trace', async () => {
    const { connect, send, push, registry } = setup();
    await connect('a=');
    registry.failNext.find = new Error('secret internals at /var/user/index.js:1');
    await send('a=', 'hi');
    const [error] = push.to('a=');
    expect(error).toMatchObject({ type: 'error', code: 'internal' });
    expect(JSON.stringify(error)).not.toContain('/var/user');
  });

  it('tells the sender to try again when the store is unavailable', async () => {
    const { connect, send, push, registry } = setup();
    await connect('a=');
    registry.failNext.find = new StoreError('COS getObject timed out after 5000 ms', undefined);
    await send('a=', '{"type":"ping","ref":"p"}');
    expect(push.to('a=')).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'store_unavailable',
        ref: 'p',
        message: expect.stringContaining('try again'),
      }),
    ]);
  });

  it('re-creates a lost record in the default room, tells the client, and delivers the message', async () => {
    const { connect, send, push, registry } = setup();
    await connect('a=', { nick: 'alice' });
    await connect('b=');
    await registry.remove([{ id: 'a=', room: 'lobby' }]);
    push.clear();
    await send('a=', 'still here');
    expect(push.to('a=')[0]).toMatchObject({
      type: 'ack',
      for: 'join',
      room: 'lobby',
      nick: expect.stringMatching(/^guest-/),
    });
    expect(push.to('a=')[0]!.ref).toBeUndefined();
    expect(push.to('b=')).toEqual([expect.objectContaining({ text: 'still here' })]);
    expect(registry.memberIds('lobby')).toEqual(['a=', 'b=']);
  });

  it('refuses a nick entry it cannot decode instead of admitting a guest', async () => {
    const { chat, registry } = setup();
    expect(await chat.connect({ connectionId: 'a=', protocols: ['wschat.v1', 'nick.YQ=='] })).toEqual({
      ok: false,
      refusal: 'invalid',
      message: expect.stringContaining('base64url'),
    });
    expect(registry.records.size).toBe(0);
  });

  it('refuses a connection it cannot store, so nobody is admitted unreachable', async () => {
    const { connect, registry } = setup();
    registry.failNext.add = new Error('COS down');
    expect(await connect('a=')).toEqual({
      ok: false,
      refusal: 'unavailable',
      message: expect.stringContaining('unavailable'),
    });
  });

  describe('with AUTH_SECRET', () => {
    const secret = 'test-secret';
    it('admits a valid token with the nick and room it carries, whatever the client asks', async () => {
      const { connect, send, push, registry } = setup({ authSecret: secret });
      const token = issueToken(secret, { nick: 'alice', room: 'vip', ttlSeconds: 60 }, 1_800_000_000_000);
      expect(await connect('a=', { token, room: 'lobby', nick: 'mallory' })).toEqual({
        ok: true,
        protocol: 'wschat.v1',
        // The record, for a gateway that hands it back with each frame (connection-context.ts).
        context: expect.stringContaining('"room":"vip","nick":"alice"') as unknown,
      });
      expect(registry.records.get('a=')).toMatchObject({ nick: 'alice', room: 'vip' });
      push.clear();
      await send('a=', '{"type":"join","room":"vip","ref":"catch-up"}');
      expect(push.to('a=')[0]).toMatchObject({ type: 'ack', for: 'join', room: 'vip', ref: 'catch-up' });
    });

    it('asks a token holder whose record was lost to reconnect, instead of making it a guest', async () => {
      const { connect, send, push, registry } = setup({ authSecret: secret });
      const token = issueToken(secret, { nick: 'alice', room: 'vip', ttlSeconds: 60 }, 1_800_000_000_000);
      await connect('a=', { token });
      await registry.remove([{ id: 'a=', room: 'vip' }]);
      await send('a=', 'hello?');
      expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'error', code: 'not_registered' })]);
      expect(push.closed).toEqual(['a=']);
      expect(registry.records.size).toBe(0);
    });

    it('does not let a token holder change the nick or room the token gave', async () => {
      const { connect, send, push, registry } = setup({ authSecret: secret });
      const token = issueToken(secret, { nick: 'alice', room: 'vip', ttlSeconds: 60 }, 1_800_000_000_000);
      await connect('a=', { token });
      await send('a=', '{"type":"nick","nick":"root","ref":"n"}');
      await send('a=', '{"type":"join","room":"lobby","ref":"j"}');
      expect(push.to('a=')).toEqual([
        expect.objectContaining({ type: 'error', code: 'forbidden', ref: 'n' }),
        expect.objectContaining({ type: 'error', code: 'forbidden', ref: 'j' }),
      ]);
      expect(registry.records.get('a=')).toMatchObject({ nick: 'alice', room: 'vip' });
      // A join without a room is a join of the room it is in: allowed.
      await send('a=', '{"type":"join","ref":"k"}');
      expect(push.to('a=')).toContainEqual(
        expect.objectContaining({ type: 'ack', for: 'join', ref: 'k', room: 'vip', nick: 'alice' }),
      );
    });

    it('refuses missing, forged and expired tokens with a non-zero errNo', async () => {
      const { connect, registry, advance } = setup({ authSecret: secret });
      expect(await connect('a=')).toMatchObject({ ok: false, refusal: 'unauthorized' });
      const forged = issueToken('wrong', { nick: 'x', room: 'lobby', ttlSeconds: 60 }, 1_800_000_000_000);
      expect(await connect('b=', { token: forged })).toMatchObject({ ok: false, refusal: 'unauthorized' });
      const token = issueToken(secret, { nick: 'x', room: 'lobby', ttlSeconds: 1 }, 1_800_000_000_000);
      advance(1000);
      expect(await connect('c=', { token })).toMatchObject({
        ok: false,
        message: 'unauthorized: token expired',
      });
      expect(registry.records.size).toBe(0);
    });
  });

  it('publishes from the HTTP API into a room with source "api"', async () => {
    const { connect, push, chat } = setup();
    await connect('a=');
    await connect('b=', { room: 'other' });
    push.clear();
    const result = await chat.publish({ room: 'lobby', text: 'deploy finished', from: 'ci' });
    expect(result).toMatchObject({ delivered: 1, online: 1 });
    expect(push.to('a=')).toEqual([
      expect.objectContaining({ from: 'ci', text: 'deploy finished', source: 'api' }),
    ]);
    expect(push.to('b=')).toEqual([]);
  });

  it('still delivers a published message when history cannot store it, and says so', async () => {
    const { connect, push, chat, history } = setup();
    await connect('a=');
    push.clear();
    history.failAppend = true;
    const result = await chat.publish({ room: 'lobby', text: 'history is down', from: 'ci' });
    expect(result).toMatchObject({ delivered: 1, online: 1, stored: false });
    expect(push.to('a=')).toEqual([expect.objectContaining({ text: 'history is down', source: 'api' })]);
  });

  it('delivers a chat message with stored: false when history cannot store it, like a published one', async () => {
    const { connect, send, push, history } = setup();
    await connect('a=');
    await connect('b=');
    push.clear();
    history.failAppend = true;
    await send('a=', 'history is down');
    expect(push.to('b=')).toEqual([expect.objectContaining({ text: 'history is down' })]);
    expect(push.to('a=')).toEqual([expect.objectContaining({ type: 'ack', delivered: 1, stored: false })]);
  });

  it('gives each service its own message-ID sequence', async () => {
    const { connect, send, history, otherContainer } = setup();
    await connect('a=');
    await send('a=', 'one');
    await otherContainer().publish({ room: 'lobby', text: 'two' });
    const [first, second] = history.messages.map((m) => m.id);
    // Same millisecond, different services: each starts its own sequence at 0.
    expect(first!.slice(0, 12)).toBe(second!.slice(0, 12));
  });

  it('sweeps stale members and tells the gateway to close them', async () => {
    const { connect, chat, registry, push, advance } = setup();
    await connect('old=', { room: 'quiet' });
    advance(TEST_LIMITS.connectionTtlMs + 1);
    await connect('new=');
    const report = await chat.sweep();
    expect(report.staleConnections).toBe(1);
    expect(registry.memberIds('quiet')).toEqual([]);
    expect(registry.records.has('old=')).toBe(false);
    expect(registry.memberIds('lobby')).toEqual(['new=']);
    expect(push.closed).toEqual(['old=']);
  });
});
