import { ClientSession, type SessionEvent, type SessionOptions } from '../../../code/client/session';
import { CATCH_UP_OVERLAP } from '../../../code/client/timeline';
import type { ChatMessage } from '../../../code/chat/protocol';

/** The shared client session, driven frame by frame: no sockets, a manual clock and timers. */

type Frame = Record<string, unknown> & { type: string; ref?: string };

function harness(options: Partial<SessionOptions> = {}) {
  const sent: Frame[] = [];
  const events: SessionEvent[] = [];
  let now = 1_800_000_000_000;
  const timers: Array<{ at: number; run: () => void; cancelled: boolean }> = [];
  const session = new ClientSession(
    { room: 'lobby', nick: 'alice', clientId: 'tab1', ratePerSecond: 1000, burst: 1000, ...options },
    {
      send: (frame) => sent.push(JSON.parse(frame) as Frame),
      emit: (event) => events.push(event),
      now: () => now,
      setTimer(ms, run) {
        const timer = { at: now + ms, run, cancelled: false };
        timers.push(timer);
        return () => (timer.cancelled = true);
      },
    },
  );
  const receive = (frame: object) => session.received(JSON.stringify({ v: 1, ...frame }));
  const last = (type?: string): Frame => {
    const frames = type === undefined ? sent : sent.filter((f) => f.type === type);
    const frame = frames[frames.length - 1];
    if (!frame) throw new Error(`no ${type ?? ''} frame sent`);
    return frame;
  };
  const of = <T extends SessionEvent['type']>(type: T) =>
    events.filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type);
  const shown = () =>
    of('messages')
      .filter((e) => e.place !== 'older')
      .flatMap((e) => e.messages.map((m) => m.text));
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.filter((t) => !t.cancelled && t.at <= now)) {
      timer.cancelled = true;
      timer.run();
    }
  };
  const joinAck = (ref: string | undefined, extra: object = {}) =>
    receive({
      type: 'ack',
      for: 'join',
      ref,
      room: 'lobby',
      nick: 'alice',
      tag: 'aaaa',
      online: 2,
      ...extra,
    });
  /** Connects and answers the join with `messages` as the first page. */
  const connect = (messages: ChatMessage[] = [], more = false) => {
    session.opened();
    const join = last('join');
    joinAck(join.ref);
    receive({ type: 'history', ref: join.ref, room: 'lobby', messages, more });
    return join;
  };
  return { session, sent, events, receive, last, of, shown, advance, connect, joinAck };
}

let seq = 0;
/** Messages with ids in time order, as the server makes them. */
function messages(count: number, extra: Partial<ChatMessage> = {}): ChatMessage[] {
  return Array.from({ length: count }, () => {
    seq += 1;
    const id = `0mwr${String(seq).padStart(8, '0')}x`;
    return { id, room: 'lobby', from: 'bob', tag: 'bbbb', text: `m${seq}`, ts: seq, ...extra };
  });
}

/** Answers history requests `since` a cursor from `stored`, 50 at a time, as the server pages. */
function pageAfter(stored: ChatMessage[], since: string, limit = 50) {
  const after = stored.filter((m) => m.id > since);
  return { messages: after.slice(0, limit), more: after.length > limit };
}

describe('client session: first connect', () => {
  it('joins without a cursor, shows the first page, and pages older ones backwards', () => {
    const { session, connect, of, last, receive } = harness();
    const all = messages(70);
    const join = connect(all.slice(20), true);
    expect(join).toEqual({ type: 'join', room: 'lobby', ref: join.ref });
    expect(of('messages')).toEqual([
      { type: 'messages', place: 'first', messages: all.slice(20), more: true },
    ]);
    expect(of('ready')).toHaveLength(1);
    expect(session.loadOlder()).toBe(true);
    const older = last('history');
    expect(older).toMatchObject({ before: all[20]!.id, limit: 50 });
    expect(session.loadOlder()).toBe(false); // one request at a time
    receive({ type: 'history', ref: older.ref, room: 'lobby', messages: all.slice(0, 20), more: false });
    expect(of('messages')[1]).toEqual({
      type: 'messages',
      place: 'older',
      messages: all.slice(0, 20),
      more: false,
    });
  });
});

describe('client session: reconnect cases', () => {
  it('catches up beyond one page: all missed messages, in order, once', () => {
    const { session, connect, receive, last, of, shown } = harness();
    const before = messages(10);
    connect(before);
    session.closed();
    const missed = messages(120);
    const stored = [...before, ...missed];
    session.opened();
    const join = last('join');
    // The cursor overlaps the newest seen, so out-of-order deliveries are not skipped.
    expect(join.since).toBe(before[before.length - 1 - CATCH_UP_OVERLAP]!.id);
    receive({
      type: 'ack',
      for: 'join',
      ref: join.ref,
      room: 'lobby',
      nick: 'alice',
      tag: 'cccc',
      online: 2,
    });
    receive({ type: 'history', ref: join.ref, room: 'lobby', ...pageAfter(stored, join.since as string) });
    for (let page = 0; page < 5 && of('ready').length < 2; page += 1) {
      const next = last('history');
      expect(next.since).toBeDefined();
      receive({ type: 'history', ref: next.ref, room: 'lobby', ...pageAfter(stored, next.since as string) });
    }
    expect(of('ready')).toHaveLength(2);
    expect(shown()).toEqual(stored.map((m) => m.text));
    expect(of('messages').at(-1)).toMatchObject({ place: 'catch-up' });
    expect(of('gap')).toEqual([]);
  });

  it('a room that was empty when we joined is caught up from the server clock, not shown as a latest page', () => {
    const { session, connect, receive, sent, last, of } = harness();
    connect([]);
    const clock = last('ping');
    receive({ type: 'pong', ref: clock.ref, ts: 1_800_000_000_000 });
    session.closed();
    session.opened();
    const join = last('join');
    expect(join.since).toBe((1_800_000_000_000 - 5000).toString(36).padStart(9, '0'));
    const missed = messages(60);
    receive({ type: 'history', ref: join.ref, room: 'lobby', messages: missed.slice(0, 50), more: true });
    const next = last('history');
    receive({ type: 'history', ref: next.ref, room: 'lobby', messages: missed.slice(50), more: false });
    expect(of('messages').at(-1)).toMatchObject({ place: 'catch-up' });
    expect(of('messages').at(-1)!.messages).toHaveLength(60);
    expect(sent.filter((f) => f.type === 'ping')).toHaveLength(1);
  });

  it('holds live messages during the catch-up and shows each once, in id order', () => {
    const { session, connect, receive, last, shown } = harness();
    const before = messages(6);
    connect(before);
    session.closed();
    const missed = messages(3);
    session.opened();
    const join = last('join');
    receive({ type: 'message', ...missed[2]!, online: 2 }); // arrives live before the catch-up answers
    session.received('not json');
    receive({
      type: 'history',
      ref: join.ref,
      room: 'lobby',
      messages: [...before.slice(-5), ...missed],
      more: false,
    });
    expect(shown()).toEqual([...before, ...missed].map((m) => m.text));
  });

  it('says plainly when retention dropped messages after the cursor, and not when the overlap covers it', () => {
    const dropped = harness();
    const seen = messages(6);
    dropped.connect(seen);
    dropped.session.closed();
    dropped.session.opened();
    const join = dropped.last('join');
    dropped.receive({
      type: 'history',
      ref: join.ref,
      room: 'lobby',
      messages: messages(3),
      more: false,
      gap: true,
    });
    expect(dropped.of('gap')).toHaveLength(1);

    const covered = harness();
    const known = messages(8);
    covered.connect(known);
    covered.session.closed();
    covered.session.opened();
    const again = covered.last('join');
    // History's oldest kept message is one we saw (it was in the overlap): nothing is missing.
    covered.receive({
      type: 'history',
      ref: again.ref,
      room: 'lobby',
      messages: [...known.slice(-1), ...messages(2)],
      more: false,
      gap: true,
    });
    expect(covered.of('gap')).toEqual([]);
  });

  it('a send in flight when the connection broke, found in the catch-up by cid, is delivered and not sent again', () => {
    const { session, connect, receive, last, of, sent } = harness();
    connect(messages(6));
    const cid = session.sendMessage('are you there?');
    const attempt = last('message');
    expect(attempt).toMatchObject({ text: 'are you there?', cid });
    session.closed();
    session.opened();
    const join = last('join');
    const stored = { ...messages(1, { from: 'alice', tag: 'aaaa', text: 'are you there?', cid })[0]! };
    receive({ type: 'history', ref: join.ref, room: 'lobby', messages: [stored], more: false });
    expect(sent.filter((f) => f.type === 'message')).toHaveLength(1);
    expect(of('send').at(-1)!.update).toMatchObject({ cid, state: 'delivered', id: stored.id });
    // It is shown once, as our send, not again as a message from the catch-up.
    expect(
      of('messages')
        .flatMap((e) => e.messages)
        .map((m) => m.id),
    ).not.toContain(stored.id);
  });

  it('a send in flight that is not in the catch-up is sent again with the same cid; a duplicate ack confirms it', () => {
    const { session, connect, receive, last, of, sent } = harness();
    connect(messages(6));
    const cid = session.sendMessage('hello?');
    session.closed();
    session.opened();
    const join = last('join');
    receive({ type: 'history', ref: join.ref, room: 'lobby', messages: [], more: false });
    const retries = sent.filter((f) => f.type === 'message');
    expect(retries).toHaveLength(2);
    expect(retries[1]).toMatchObject({ cid, text: 'hello?' });
    expect(retries[1]!.ref).not.toBe(retries[0]!.ref);
    receive({
      type: 'ack',
      for: 'message',
      ref: retries[1]!.ref,
      id: 'orig',
      delivered: 0,
      failed: 0,
      online: 2,
      stored: true,
      duplicate: true,
    });
    expect(of('send').at(-1)!.update).toMatchObject({ cid, state: 'delivered', id: 'orig' });
    expect(session.outstanding).toBe(0);
  });

  it('a connection lost during the catch-up starts it again from the same cursor, without duplicates', () => {
    const { session, connect, receive, last, shown } = harness();
    const before = messages(6);
    connect(before);
    session.closed();
    const missed = messages(80);
    const stored = [...before, ...missed];
    session.opened();
    const first = last('join');
    receive({ type: 'history', ref: first.ref, room: 'lobby', ...pageAfter(stored, first.since as string) });
    session.closed(); // mid-way: the first page is dropped, not shown half
    expect(shown()).toEqual(before.map((m) => m.text));
    session.opened();
    const second = last('join');
    expect(second.since).toBe(first.since);
    receive({
      type: 'history',
      ref: second.ref,
      room: 'lobby',
      ...pageAfter(stored, second.since as string),
    });
    const next = last('history');
    receive({ type: 'history', ref: next.ref, room: 'lobby', ...pageAfter(stored, next.since as string) });
    expect(shown()).toEqual(stored.map((m) => m.text));
  });

  it('an unasked join ack (the server lost our record) takes us back to our room and name', () => {
    const { session, receive, sent } = harness({ room: 'dev' });
    session.opened();
    const join = sent.at(-1)!;
    receive({ type: 'ack', for: 'join', ref: join.ref, room: 'dev', nick: 'alice', tag: 'aaaa', online: 1 });
    receive({ type: 'history', ref: join.ref, room: 'dev', messages: [], more: false });
    receive({ type: 'ack', for: 'join', room: 'lobby', nick: 'guest-1234', tag: 'aaaa', online: 1 });
    const recovered = sent.slice(-1)[0]!;
    expect(recovered).toMatchObject({ type: 'nick', nick: 'alice' });
    receive({
      type: 'ack',
      for: 'nick',
      ref: recovered.ref,
      room: 'lobby',
      nick: 'alice',
      tag: 'aaaa',
      online: 1,
    });
    expect(sent.at(-1)).toMatchObject({ type: 'join', room: 'dev' });
  });

  it('with access control, catches up by history when join is forbidden; an unasked join ack asks for a new connection', () => {
    const { session, receive, sent, of } = harness({ room: undefined, nick: undefined, tokenHolder: true });
    session.opened();
    const sync = sent.at(-1)!;
    expect(sync).toMatchObject({ type: 'history', limit: 50 });
    receive({
      type: 'history',
      ref: sync.ref,
      room: 'vip',
      messages: messages(2, { room: 'vip' }),
      more: false,
    });
    expect(session.currentRoom).toBe('vip');
    expect(of('messages')[0]!.messages).toHaveLength(2);
    receive({ type: 'ack', for: 'join', room: 'lobby', nick: 'guest', tag: 'aaaa', online: 1 });
    expect(of('reconnect')).toEqual([{ type: 'reconnect', reason: 'the server forgot this connection' }]);
  });

  it('a token holder that knows its room joins it (its arrival is announced on a first join)', () => {
    const { session, receive, sent } = harness({ room: 'vip', nick: undefined, tokenHolder: true });
    session.opened();
    const sync = sent.at(-1)!;
    expect(sync).toMatchObject({ type: 'join', room: 'vip' });
    // Refused anyway (a room other than the token's): history, and no second join.
    receive({ type: 'error', code: 'forbidden', message: 'no', ref: sync.ref });
    expect(sent.at(-1)).toMatchObject({ type: 'history' });
    session.closed();
    session.opened();
    expect(sent.at(-1)).toMatchObject({ type: 'history' });
  });

  it('a server that forbids join (no token known) is caught up by history without an error', () => {
    const { session, receive, sent, of } = harness();
    session.opened();
    const join = sent.at(-1)!;
    receive({ type: 'error', code: 'forbidden', message: 'no', ref: join.ref });
    expect(sent.at(-1)).toMatchObject({ type: 'history' });
    expect(of('error')).toEqual([]);
  });

  it('a catch-up the server never answers ends after the timeout with a notice', () => {
    const { session, advance, of } = harness({ syncTimeoutMs: 5000 });
    session.opened();
    advance(5000);
    expect(of('notice')).toHaveLength(1);
    expect(session.isReady).toBe(true);
  });

  it('a ping left unanswered asks for a new connection', () => {
    const { session, connect, of, receive } = harness();
    connect();
    session.heartbeat();
    receive({ type: 'pong', ts: 1 });
    session.heartbeat();
    session.heartbeat();
    expect(of('reconnect')).toEqual([{ type: 'reconnect', reason: 'no answer to ping' }]);
  });
});

describe('client session: sending', () => {
  it('keeps one message in flight and queues the rest, in order', () => {
    const { session, connect, receive, sent } = harness();
    connect();
    session.sendMessage('one');
    session.sendMessage('two');
    const inFlight = sent.filter((f) => f.type === 'message');
    expect(inFlight.map((f) => f.text)).toEqual(['one']);
    receive({
      type: 'ack',
      for: 'message',
      ref: inFlight[0]!.ref,
      id: 'x1',
      delivered: 1,
      failed: 0,
      online: 2,
      stored: true,
    });
    expect(sent.filter((f) => f.type === 'message').map((f) => f.text)).toEqual(['one', 'two']);
  });

  it('queues sends while offline and sends them after the catch-up', () => {
    const { session, connect, sent } = harness();
    session.sendMessage('early');
    expect(sent).toEqual([]);
    connect();
    expect(sent.at(-1)).toMatchObject({ type: 'message', text: 'early' });
  });

  it('an unanswered send fails after the timeout; retry sends it with the same cid; a late ack still confirms', () => {
    const { session, connect, receive, advance, of, sent } = harness({ ackTimeoutMs: 15_000 });
    connect();
    const cid = session.sendMessage('slow');
    const first = sent.at(-1)!;
    advance(15_000);
    expect(of('send').at(-1)!.update).toMatchObject({ cid, state: 'failed', retryable: true });
    session.retry(cid);
    const second = sent.at(-1)!;
    expect(second).toMatchObject({ type: 'message', cid, text: 'slow' });
    receive({
      type: 'ack',
      for: 'message',
      ref: second.ref,
      id: 'orig',
      delivered: 0,
      failed: 0,
      online: 1,
      stored: true,
      duplicate: true,
    });
    expect(of('send').at(-1)!.update).toMatchObject({ cid, state: 'delivered', id: 'orig' });
    expect(first.ref).not.toBe(second.ref);
  });

  it('an error without a ref belongs to the message in flight', () => {
    const { session, connect, receive, of } = harness();
    connect();
    const cid = session.sendMessage('fast');
    receive({ type: 'error', code: 'rate_limited', message: 'slow down' });
    expect(of('send').at(-1)!.update).toMatchObject({
      cid,
      state: 'failed',
      code: 'rate_limited',
      retryable: true,
    });
  });

  it('an ack of our own message keeps the echo in history from showing it twice', () => {
    const { session, connect, receive, sent, shown } = harness();
    connect();
    session.sendMessage('mine');
    const frame = sent.at(-1)!;
    receive({
      type: 'ack',
      for: 'message',
      ref: frame.ref,
      id: '0mwr99999999z',
      delivered: 1,
      failed: 0,
      online: 2,
      stored: true,
    });
    session.closed();
    session.opened();
    const join = sent.at(-1)!;
    const echo = { id: '0mwr99999999z', room: 'lobby', from: 'alice', tag: 'aaaa', text: 'mine', ts: 1 };
    receive({ type: 'history', ref: join.ref, room: 'lobby', messages: [echo], more: false });
    expect(shown()).toEqual([]);
  });
});

describe('client session: presence and rooms', () => {
  it('passes presence events it does not know to the face, with the online count', () => {
    const { connect, receive, of } = harness();
    connect();
    receive({ type: 'presence', event: 'batch', room: 'lobby', online: 7, joined: 3, left: 1 });
    expect(of('presence')[0]!.presence).toMatchObject({ event: 'batch', online: 7 });
    expect(of('online').at(-1)).toEqual({ type: 'online', count: 7 });
    receive({ type: 'presence', event: 'join', room: 'lobby' }); // a known event missing its fields: ignored
    expect(of('presence')).toHaveLength(1);
  });

  it('switching rooms starts the new room afresh (its first page, no cursor)', () => {
    const { session, connect, receive, sent, of } = harness();
    connect(messages(3));
    session.join('dev');
    const join = sent.at(-1)!;
    expect(join).toEqual({ type: 'join', room: 'dev', ref: join.ref });
    receive({ type: 'ack', for: 'join', ref: join.ref, room: 'dev', nick: 'alice', tag: 'aaaa', online: 1 });
    const dev = messages(2, { room: 'dev' });
    receive({ type: 'history', ref: join.ref, room: 'dev', messages: dev, more: false });
    expect(of('joined').at(-1)).toMatchObject({ room: 'dev', switched: true });
    expect(of('messages').at(-1)).toEqual({ type: 'messages', place: 'first', messages: dev, more: false });
    session.closed();
    session.opened();
    expect(sent.at(-1)).toMatchObject({ type: 'join', room: 'dev' });
  });
});

describe('client session: members', () => {
  it('asks for member pages only while ready, and hands the face each page with its cursor', () => {
    const { session, connect, receive, last, of } = harness();
    expect(session.requestMembers()).toBe(false);
    connect();
    expect(session.requestMembers()).toBe(true);
    const first = last('members');
    expect(first).toEqual({ type: 'members', ref: first.ref });
    const page = [
      { nick: 'alice', tag: 'aaaa' },
      { nick: 'bob', tag: 'bbbb' },
    ];
    receive({ type: 'members', ref: 'someone-else', room: 'lobby', members: [] }); // not ours: ignored
    receive({ type: 'members', ref: first.ref, room: 'lobby', members: page, next: 'c1' });
    expect(of('members')).toEqual([{ type: 'members', room: 'lobby', members: page, next: 'c1' }]);
    session.requestMembers('c1');
    const second = last('members');
    expect(second).toEqual({ type: 'members', after: 'c1', ref: second.ref });
    receive({ type: 'members', ref: second.ref, room: 'lobby', members: [{ nick: 'x', tag: 1 }] }); // malformed
    expect(of('members')).toHaveLength(1);
    receive({ type: 'error', ref: second.ref, code: 'rate_limited', message: 'slow down' });
    expect(of('error').at(-1)).toEqual({
      type: 'error',
      about: 'members',
      code: 'rate_limited',
      message: 'slow down',
    });
  });
});

describe('client session: unread counts', () => {
  it('asks only while ready, with each room’s last seen id or null, and hands the face the answer to it', () => {
    const { session, connect, receive, last, of } = harness();
    expect(session.requestUnread([{ room: 'dev', since: '0mwr00000001x' }])).toBe(false);
    connect();
    expect(session.requestUnread([])).toBe(false);
    expect(session.requestUnread([{ room: 'dev', since: '0mwr00000001x' }, { room: 'ops' }])).toBe(true);
    const asked = last('unread');
    expect(asked).toEqual({ type: 'unread', rooms: { dev: '0mwr00000001x', ops: null }, ref: asked.ref });
    receive({ type: 'unread', ref: 'not-ours', rooms: { dev: 9 } });
    receive({ type: 'unread', ref: asked.ref, rooms: { dev: 'x' } }); // malformed: ignored
    receive({ type: 'unread', ref: asked.ref, rooms: { dev: -1 } });
    expect(of('unread')).toEqual([]);
    receive({ type: 'unread', ref: asked.ref, rooms: { dev: 3, ops: 50 }, capped: ['ops'] });
    expect(of('unread')).toHaveLength(1);
    expect([...of('unread')[0]!.rooms]).toEqual([
      ['dev', { count: 3, capped: false }],
      ['ops', { count: 50, capped: true }],
    ]);
    // Answered once: a repeat of the same answer is not ours any more.
    receive({ type: 'unread', ref: asked.ref, rooms: { dev: 4 } });
    expect(of('unread')).toHaveLength(1);
  });

  it('reports a refusal as an unread error, and forgets a question asked on a connection that closed', () => {
    const { session, connect, receive, last, of } = harness();
    connect();
    session.requestUnread([{ room: 'dev' }]);
    receive({ type: 'error', ref: last('unread').ref, code: 'rate_limited', message: 'slow down' });
    expect(of('error')).toEqual([
      { type: 'error', about: 'unread', code: 'rate_limited', message: 'slow down' },
    ]);
    session.requestUnread([{ room: 'dev' }]);
    const lost = last('unread');
    session.closed();
    connect();
    receive({ type: 'unread', ref: lost.ref, rooms: { dev: 1 } });
    expect(of('unread')).toEqual([]);
  });

  it('knows the last id seen in the room: the newest shown or acked, else the time cursor of an empty room', () => {
    const { session, connect, receive, last } = harness();
    expect(session.lastSeen).toBeUndefined();
    const first = messages(3);
    connect(first);
    expect(session.lastSeen).toBe(first[2]!.id);
    const [live] = messages(1);
    receive({ type: 'message', ...live!, online: 2 });
    expect(session.lastSeen).toBe(live!.id);
    session.sendMessage('mine');
    const own = last('message');
    receive({
      type: 'ack',
      for: 'message',
      ref: own.ref,
      id: '0mwr99999999x',
      delivered: 1,
      failed: 0,
      online: 2,
      stored: true,
    });
    expect(session.lastSeen).toBe('0mwr99999999x');

    const empty = harness();
    empty.connect();
    const clock = empty.last('ping');
    empty.receive({ type: 'pong', ref: clock.ref, ts: 1_800_000_000_000 });
    expect(empty.session.lastSeen).toMatch(/^[0-9a-z]{9}$/);
  });

  it('a room switched into while empty gets a time cursor too; a late answer about the old room is ignored', () => {
    const { session, connect, receive, last, sent } = harness();
    connect();
    const oldClock = last('ping');
    session.join('dev');
    const join = last('join');
    receive({ type: 'ack', for: 'join', ref: join.ref, room: 'dev', nick: 'alice', tag: 'aaaa', online: 1 });
    receive({ type: 'pong', ref: oldClock.ref, ts: 1_800_000_000_000 });
    expect(session.lastSeen).toBeUndefined();
    receive({ type: 'history', ref: join.ref, room: 'dev', messages: [], more: false });
    const clock = last('ping');
    expect(clock.ref).not.toBe(oldClock.ref);
    expect(sent.filter((f) => f.type === 'ping')).toHaveLength(2);
    receive({ type: 'pong', ref: clock.ref, ts: 1_800_000_060_000 });
    expect(session.lastSeen).toBe((1_800_000_055_000).toString(36).padStart(9, '0'));
  });
});

describe('client session: typing', () => {
  it('sends "typing" at most once per interval while ready, and shows others typing in this room only', () => {
    const { session, connect, receive, sent, advance, of } = harness({ typingIntervalMs: 3000 });
    expect(session.typing()).toBe(false);
    connect();
    expect(session.typing()).toBe(true);
    expect(session.typing()).toBe(false);
    advance(2999);
    expect(session.typing()).toBe(false);
    advance(1);
    expect(session.typing()).toBe(true);
    expect(sent.filter((f) => f.type === 'typing')).toEqual([{ type: 'typing' }, { type: 'typing' }]);

    receive({ type: 'typing', room: 'lobby', nick: 'bob', tag: 'bbbb', ts: 1 });
    receive({ type: 'typing', room: 'elsewhere', nick: 'cy', tag: 'cccc', ts: 1 });
    receive({ type: 'typing', room: 'lobby', nick: 5, tag: 'dddd', ts: 1 }); // malformed: ignored
    expect(of('typing')).toEqual([{ type: 'typing', nick: 'bob', tag: 'bbbb' }]);
  });
});
