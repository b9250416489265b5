import { envelope, SUBPROTOCOL } from '../../../code/chat/protocol';
import { CHAT_SUBPROTOCOL, PLAIN_CLIENT_HELLO, renderPlain } from '../../../code/gateway/plain-text';
import { parseClientFrame } from '../../../code/chat/protocol';

/** What a client without wschat.v1 reads for each envelope the core sends (built with the core's own builder). */
describe('renderPlain', () => {
  const message = {
    id: '0mwr68d6j000a1b2c3d4',
    room: 'lobby',
    from: 'alice',
    tag: '3f2a',
    text: 'hi',
    ts: 1,
  };

  it('agrees with the core on the sub-protocol and on the hello being a join of the room it is in', () => {
    expect(CHAT_SUBPROTOCOL).toBe(SUBPROTOCOL);
    expect(parseClientFrame(PLAIN_CLIENT_HELLO)).toEqual({
      type: 'join',
      room: undefined,
      since: undefined,
    });
  });

  it('renders messages, history, presence, errors, members and unread counts as lines', () => {
    expect(renderPlain(envelope({ type: 'message', ...message, online: 2 }))).toEqual(['alice: hi']);
    expect(
      renderPlain(
        envelope({
          type: 'history',
          room: 'lobby',
          messages: [message, { ...message, from: 'bob', text: 'two\nlines' }],
          more: false,
        }),
      ),
    ).toEqual(['alice: hi', 'bob: two\nlines']);
    const presence = { room: 'lobby', nick: 'bob', tag: '9c0e', online: 3, ts: 1 };
    expect(renderPlain(envelope({ type: 'presence', event: 'join', ...presence }))).toEqual([
      '* bob joined (3 online)',
    ]);
    expect(renderPlain(envelope({ type: 'presence', event: 'leave', ...presence }))).toEqual([
      '* bob left (3 online)',
    ]);
    expect(
      renderPlain(envelope({ type: 'presence', event: 'nick', ...presence, nick: 'rob', previous: 'bob' })),
    ).toEqual(['* bob is now rob']);
    expect(renderPlain(envelope({ type: 'error', code: 'rate_limited', message: 'slow down' }))).toEqual([
      '! rate_limited: slow down',
    ]);
    expect(
      renderPlain(
        envelope({ type: 'members', room: 'lobby', members: [{ nick: 'a', tag: '0001' }], next: 'x' }),
      ),
    ).toEqual(['* in lobby: a#0001 … more: {"type":"members","after":"x"}']);
    expect(renderPlain(envelope({ type: 'unread', rooms: { dev: 3, ops: 50 }, capped: ['ops'] }))).toEqual([
      '* unread: dev 3, ops 50+',
    ]);
  });

  it('sends nothing for acks, pongs and typing notices', () => {
    const ack = envelope({
      type: 'ack',
      for: 'message',
      id: message.id,
      delivered: 1,
      failed: 0,
      online: 2,
      stored: true,
    });
    expect(renderPlain(ack)).toEqual([]);
    expect(renderPlain(envelope({ type: 'pong', ts: 1 }))).toEqual([]);
    expect(renderPlain(envelope({ type: 'typing', room: 'lobby', nick: 'a', tag: '0001', ts: 1 }))).toEqual(
      [],
    );
  });

  it('passes text that is not an envelope unchanged, and survives odd envelopes', () => {
    expect(renderPlain('just text')).toEqual(['just text']);
    expect(renderPlain('{"not":"ours"}')).toEqual(['{"not":"ours"}']);
    expect(renderPlain('{"v":1,"type":"message","from":5}')).toEqual(['?: ?']);
    expect(renderPlain('{"v":1,"type":"history","messages":"no"}')).toEqual([]);
  });
});
