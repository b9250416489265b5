import type { ChatMessage } from '../../../code/chat/protocol';
import { parseInputLine } from '../../../scripts/cli/input';
import { CATCH_UP_OVERLAP, ChatSession, type Output } from '../../../scripts/cli/session';

/** Frames the session sent, parsed. */
function sent(output: Output): Array<Record<string, unknown>> {
  return output.send.map((frame) => JSON.parse(frame) as Record<string, unknown>);
}

let clock = new Date(2024, 0, 2, 10, 0, 0).getTime();
const now = () => clock;

function msg(n: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  // Time-ordered ids, as the server makes them.
  return {
    id: `id${String(n).padStart(4, '0')}`,
    room: 'lobby',
    from: 'bob',
    tag: 'b0b0',
    text: `message ${n}`,
    ts: new Date(2024, 0, 2, 9, 0, n % 60).getTime(),
    ...overrides,
  };
}

const frame = (body: Record<string, unknown>) => JSON.stringify({ v: 1, ...body });
const message = (m: ChatMessage) => frame({ type: 'message', online: 2, ...m });
const history = (ref: unknown, messages: ChatMessage[], more = false) =>
  frame({ type: 'history', ref, room: 'lobby', messages, more });
const ackJoin = (ref: unknown, extra: Record<string, unknown> = {}) =>
  frame({ type: 'ack', for: 'join', ref, room: 'lobby', nick: 'alice', tag: 'a11c', online: 2, ...extra });
const ackMessage = (ref: unknown, id: string) =>
  frame({ type: 'ack', for: 'message', ref, id, delivered: 1, failed: 0, online: 2, stored: true });

/** Opens a connection and completes the join with the given history; returns the join frame. */
function join(session: ChatSession, messages: ChatMessage[] = [], extra: Record<string, unknown> = {}) {
  const [joinFrame] = sent(session.opened());
  expect(joinFrame).toMatchObject({ type: 'join', room: 'lobby' });
  session.received(ackJoin(joinFrame!.ref, extra));
  const output = session.received(history(joinFrame!.ref, messages));
  return { joinFrame: joinFrame!, output };
}

beforeEach(() => {
  clock = new Date(2024, 0, 2, 10, 0, 0).getTime();
});

describe('ChatSession', () => {
  it('joins on open, prints the join and the history, and reports joined', () => {
    const session = new ChatSession({ room: 'lobby', nick: 'alice', now });
    const opened = sent(session.opened());
    expect(opened).toEqual([{ type: 'join', room: 'lobby', ref: expect.any(String) }]);
    const ack = session.received(ackJoin(opened[0]!.ref));
    expect(ack.joined).toBe(true);
    expect(ack.out).toEqual(['10:00:00 * joined lobby as alice#a11c (2 online)']);
    const output = session.received(history(opened[0]!.ref, [msg(1), msg(2)]));
    expect(output.out).toEqual(['09:00:01 bob#b0b0: message 1', '09:00:02 bob#b0b0: message 2']);
    expect(session.isReady()).toBe(true);
  });

  it('without a room, asks the server which room it is in before joining', () => {
    const session = new ChatSession({ now });
    const [probe] = sent(session.opened());
    expect(probe).toMatchObject({ type: 'history', limit: 1 });
    const [joinFrame] = sent(session.received(history(probe!.ref, [msg(9)])));
    expect(joinFrame).toMatchObject({ type: 'join', room: 'lobby' });
    expect(session.currentRoom()).toBe('lobby');
  });

  it('holds typed lines until the join is complete, then sends them in order, one at a time', () => {
    const session = new ChatSession({ room: 'lobby', now });
    expect(session.input(parseInputLine('first')).send).toEqual([]);
    session.input(parseInputLine('second'));
    expect(session.outstanding()).toBe(2);
    const { output } = join(session);
    const [first] = sent(output);
    expect(sent(output)).toHaveLength(1);
    expect(first).toMatchObject({ type: 'message', text: 'first' });
    const next = sent(session.received(ackMessage(first!.ref, 'id0100')));
    expect(next).toEqual([{ type: 'message', text: 'second', ref: expect.any(String) }]);
    session.received(ackMessage(next[0]!.ref, 'id0101'));
    expect(session.outstanding()).toBe(0);
  });

  it('does not print a message twice, nor our own acknowledged messages when they come back in history', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session, [msg(1)]);
    expect(session.received(message(msg(1))).out).toEqual([]);
    expect(session.received(message(msg(2))).out).toEqual(['09:00:02 bob#b0b0: message 2']);
    const [mine] = sent(session.input(parseInputLine('mine')));
    session.received(ackMessage(mine!.ref, 'id0003'));
    session.closed();
    const { output } = join(session, [
      msg(1),
      msg(2),
      msg(3, { from: 'alice', tag: 'a11c', text: 'mine' }),
      msg(4),
    ]);
    expect(output.out).toEqual(['09:00:04 bob#b0b0: message 4']);
  });

  it('catches up from a cursor a few messages back, so a late message is not skipped', () => {
    const session = new ChatSession({ room: 'lobby', now });
    const messages = Array.from({ length: 20 }, (_, i) => msg(i + 1));
    join(session, messages);
    expect(session.catchUpCursor()).toBe(messages[messages.length - 1 - CATCH_UP_OVERLAP]!.id);
    session.closed();
    const [rejoin] = sent(session.opened());
    expect(rejoin).toEqual({ type: 'join', room: 'lobby', since: 'id0015', ref: expect.any(String) });
    // A message older than the newest seen one, missed when the connection broke, is shown; the rest is not.
    session.received(ackJoin(rejoin!.ref));
    const late = msg(17, { id: 'id0019a', text: 'late' });
    const output = session.received(
      history(
        rejoin!.ref,
        [...messages.slice(15), late].sort((a, b) => (a.id < b.id ? -1 : 1)),
      ),
    );
    expect(output.out).toEqual(['09:00:17 bob#b0b0: late']);
  });

  it('prints live messages that arrive during the catch-up after the history, in id order', () => {
    const session = new ChatSession({ room: 'lobby', now });
    const [joinFrame] = sent(session.opened());
    expect(session.received(message(msg(5))).out).toEqual([]);
    session.received(ackJoin(joinFrame!.ref));
    const output = session.received(history(joinFrame!.ref, [msg(3), msg(4), msg(5)]));
    expect(output.out).toEqual([
      '09:00:03 bob#b0b0: message 3',
      '09:00:04 bob#b0b0: message 4',
      '09:00:05 bob#b0b0: message 5',
    ]);
  });

  it('after a reconnect, sends again a message that history shows was not delivered', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    const [lost] = sent(session.input(parseInputLine('lost on the way')));
    session.closed();
    expect(session.outstanding()).toBe(1);
    const { output } = join(session, [msg(1)], { tag: 'c0de' });
    expect(sent(output)).toEqual([{ type: 'message', text: 'lost on the way', ref: lost!.ref }]);
  });

  it('after a reconnect, does not send again (nor print) a message that history shows was delivered', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    sent(session.input(parseInputLine('made it')));
    session.closed();
    const delivered = msg(2, { from: 'alice', tag: 'a11c', text: 'made it' });
    const { output } = join(session, [msg(1), delivered], { tag: 'c0de' });
    expect(sent(output)).toEqual([]);
    expect(output.out).toEqual(['09:00:01 bob#b0b0: message 1']);
    expect(session.outstanding()).toBe(0);
  });

  it('restores a nick chosen with /nick when the server assigns another one after a reconnect', () => {
    const session = new ChatSession({ room: 'lobby', nick: 'alice', now });
    join(session);
    const [nickFrame] = sent(session.input(parseInputLine('/nick alicia')));
    const renamed = session.received(
      frame({
        type: 'ack',
        for: 'nick',
        ref: nickFrame!.ref,
        room: 'lobby',
        nick: 'alicia',
        tag: 'a11c',
        online: 2,
      }),
    );
    expect(renamed.out).toEqual(['10:00:00 * you are now alicia#a11c']);
    expect(session.connectOptions()).toEqual({ room: 'lobby', nick: 'alicia' });
    session.closed();
    // A token fixes the nick at connect: the server says "alice" again.
    const { output } = join(session, [], { nick: 'alice' });
    expect(sent(output)).toEqual([{ type: 'nick', nick: 'alicia', ref: expect.any(String) }]);
  });

  it('moves to another room with /join and shows that room only', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session, [msg(1)]);
    const [joinFrame] = sent(session.input(parseInputLine('/join side')));
    expect(joinFrame).toEqual({ type: 'join', room: 'side', ref: expect.any(String) });
    const ack = session.received(ackJoin(joinFrame!.ref, { room: 'side', online: 1 }));
    expect(ack.out).toEqual(['10:00:00 * joined side as alice#a11c (1 online)']);
    const side = msg(2, { room: 'side', text: 'earlier in side' });
    const hist = session.received(
      frame({ type: 'history', ref: joinFrame!.ref, room: 'side', messages: [side], more: false }),
    );
    expect(hist.out).toEqual(['09:00:02 bob#b0b0: earlier in side']);
    expect(session.received(message(msg(3))).out).toEqual([]);
    expect(session.connectOptions().room).toBe('side');
  });

  it('shows /history in full, even messages already shown', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session, [msg(1)]);
    const [request] = sent(session.input(parseInputLine('/history 5')));
    expect(request).toEqual({ type: 'history', limit: 5, ref: expect.any(String) });
    expect(session.received(history(request!.ref, [msg(1)], true)).out).toEqual([
      '10:00:00 * history of lobby: 1 message, earlier ones not shown',
      '09:00:01 bob#b0b0: message 1',
    ]);
    const [again] = sent(session.input(parseInputLine('/history')));
    expect(session.received(history(again!.ref, [])).out).toEqual(['10:00:00 * no messages in lobby']);
  });

  it('reports errors on stderr and counts them as answers', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    const [big] = sent(session.input(parseInputLine('x'.repeat(10))));
    const output = session.received(
      frame({ type: 'error', code: 'too_large', message: 'message is 5000 bytes', ref: big!.ref }),
    );
    expect(output.err).toEqual(['! too_large: message is 5000 bytes']);
    expect(output.out).toEqual([]);
    expect(session.outstanding()).toBe(0);
    // Rate-limited frames are refused before the server reads their ref.
    session.input(parseInputLine('too fast'));
    expect(session.outstanding()).toBe(1);
    session.received(frame({ type: 'error', code: 'rate_limited', message: 'slow down' }));
    expect(session.outstanding()).toBe(0);
  });

  it('paces sending below the server rate limit', () => {
    const session = new ChatSession({ room: 'lobby', now, ratePerSecond: 2, burst: 2, window: 10 });
    join(session);
    const lines = ['a', 'b', 'c', 'd'].map((text) => session.input(parseInputLine(text)));
    expect(lines.map((o) => o.send.length)).toEqual([1, 1, 0, 0]);
    expect(lines[2]!.flushInMs).toBe(500);
    clock += 500;
    expect(sent(session.flush())).toEqual([{ type: 'message', text: 'c', ref: expect.any(String) }]);
  });

  it('prints presence of its room', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    const presence = { type: 'presence', event: 'join', nick: 'carol', tag: '77aa', online: 3, ts: clock };
    expect(session.received(frame({ ...presence, room: 'lobby' })).out).toEqual([
      '10:00:00 * carol#77aa joined lobby (3 online)',
    ]);
    expect(session.received(frame({ ...presence, room: 'elsewhere' })).out).toEqual([]);
  });

  it('declares the connection dead when a ping goes unanswered', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    expect(sent(session.heartbeat())).toEqual([{ type: 'ping' }]);
    session.received(frame({ type: 'pong', ts: clock }));
    expect(session.heartbeat().reconnect).toBeUndefined();
    expect(session.heartbeat().reconnect).toBe('no answer to ping');
  });

  it('catches up with history when the server forbids join (access control on), without an error line', () => {
    const session = new ChatSession({ room: 'lobby', tokenNick: 'tokenholder', now });
    const [joinFrame] = sent(session.opened());
    const refused = session.received(
      frame({
        type: 'error',
        code: 'forbidden',
        message: 'your room comes from your token',
        ref: joinFrame!.ref,
      }),
    );
    expect(refused.err).toEqual([]);
    const [fallback] = sent(refused);
    expect(fallback).toEqual({ type: 'history', ref: expect.any(String) });
    const caughtUp = session.received(history(fallback!.ref, [msg(1)]));
    expect(caughtUp.joined).toBe(true);
    expect(caughtUp.out).toEqual(['10:00:00 * joined lobby as tokenholder', '09:00:01 bob#b0b0: message 1']);
    expect(session.isReady()).toBe(true);

    // If the server forgets us, only a new connection restores the token's identity.
    const forgotten = session.received(ackJoin(undefined, { nick: 'guest-a11c' }));
    expect(forgotten.reconnect).toBe('the server forgot this connection');
    expect(sent(forgotten)).toEqual([]);

    // Later connections go straight to history, from the cursor.
    const more = Array.from({ length: 10 }, (_, i) => msg(i + 2));
    for (const m of more) session.received(message(m));
    session.closed();
    expect(sent(session.opened())).toEqual([{ type: 'history', since: 'id0006', ref: expect.any(String) }]);
  });

  it('goes back to its room and nick when the server restores a lost record as a guest', () => {
    const session = new ChatSession({ room: 'side', nick: 'alice', now });
    const [joinFrame] = sent(session.opened());
    session.received(ackJoin(joinFrame!.ref, { room: 'side' }));
    session.received(
      frame({ type: 'history', ref: joinFrame!.ref, room: 'side', messages: [], more: false }),
    );
    const restored = session.received(ackJoin(undefined, { room: 'lobby', nick: 'guest-a11c' }));
    expect(restored.out).toEqual(['10:00:00 * joined lobby as guest-a11c#a11c (2 online)']);
    expect(sent(restored)).toEqual([{ type: 'nick', nick: 'alice', ref: expect.any(String) }]);
    const [back] = sent(
      session.received(
        frame({
          type: 'ack',
          for: 'nick',
          ref: sent(restored)[0]!.ref,
          room: 'lobby',
          nick: 'alice',
          tag: 'a11c',
          online: 2,
        }),
      ),
    );
    expect(back).toEqual({ type: 'join', room: 'side', ref: expect.any(String) });
  });

  it('ignores frames it cannot read, with a note on stderr', () => {
    const session = new ChatSession({ room: 'lobby', now });
    join(session);
    expect(session.received('not json')).toMatchObject({
      out: [],
      err: [expect.stringMatching(/unreadable frame/)],
    });
    expect(session.received(frame({ type: 'message', id: 'x', text: 42 })).out).toEqual([]);
  });
});
