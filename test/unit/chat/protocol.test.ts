import {
  connectProtocols,
  envelope,
  parseClientFrame,
  ProtocolError,
  readConnectOptions,
} from '../../../code/chat/protocol';

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('parseClientFrame', () => {
  it('treats plain text, and text that merely looks like JSON, as a chat message', () => {
    expect(parseClientFrame('hello')).toEqual({ type: 'message', text: 'hello' });
    expect(parseClientFrame('{not json')).toEqual({ type: 'message', text: '{not json' });
    expect(parseClientFrame('[1,2]')).toEqual({ type: 'message', text: '[1,2]' });
  });

  it('reads each command', () => {
    expect(parseClientFrame('{"type":"message","text":"hi","ref":"r1"}')).toEqual({
      type: 'message',
      text: 'hi',
      ref: 'r1',
    });
    expect(parseClientFrame('{"type":"nick","nick":"bob"}')).toEqual({
      type: 'nick',
      nick: 'bob',
      ref: undefined,
    });
    expect(parseClientFrame('{"type":"join","room":"dev","since":"abc"}')).toEqual({
      type: 'join',
      room: 'dev',
      since: 'abc',
      ref: undefined,
    });
    // Without a room: the room the connection is in (the gateway's hello for a plain client).
    expect(parseClientFrame('{"type":"join","ref":"j"}')).toEqual({
      type: 'join',
      room: undefined,
      since: undefined,
      ref: 'j',
    });
    expect(parseClientFrame('{"type":"history","limit":5}')).toEqual({
      type: 'history',
      since: undefined,
      limit: 5,
      ref: undefined,
    });
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ type: 'ping', ref: undefined });
    expect(parseClientFrame('{"type":"unread","rooms":{"dev":"0mwr68d6j","ops":null},"ref":"u"}')).toEqual({
      type: 'unread',
      rooms: [{ room: 'dev', since: '0mwr68d6j' }, { room: 'ops' }],
      ref: 'u',
    });
  });

  it('reads unread rooms as a list of own entries, and refuses a malformed one with the ref', () => {
    // A key JSON.parse makes an own property stays a room name, for the use case to refuse.
    expect(parseClientFrame('{"type":"unread","rooms":{"__proto__":null}}')).toEqual({
      type: 'unread',
      rooms: [{ room: '__proto__' }],
      ref: undefined,
    });
    for (const rooms of ['["dev"]', '"dev"', 'null', '{"dev":1}', '{"dev":{"since":"x"}}']) {
      const error = protocolError(() => parseClientFrame(`{"type":"unread","rooms":${rooms},"ref":"r"}`));
      expect(error.code).toBe('bad_frame');
      expect(error.ref).toBe('r');
      expect(error.message).toMatch(/^"rooms"/);
    }
  });

  it('refuses unknown commands with a machine-readable code and echoes the ref', () => {
    const error = protocolError(() => parseClientFrame('{"type":"shout","ref":"7"}'));
    expect(error.code).toBe('unknown_command');
    expect(error.ref).toBe('7');
    expect(error.message).toContain('shout');
  });

  it('refuses commands with missing or mistyped fields', () => {
    expect(protocolError(() => parseClientFrame('{"type":"nick"}')).code).toBe('bad_frame');
    expect(protocolError(() => parseClientFrame('{"type":"message","text":5}')).code).toBe('bad_frame');
    expect(protocolError(() => parseClientFrame('{"type":"history","limit":-1}')).code).toBe('bad_frame');
    expect(protocolError(() => parseClientFrame('{"type":"join","room":7}')).code).toBe('bad_frame');
  });

  it('does not let __proto__ smuggle a type in', () => {
    expect(protocolError(() => parseClientFrame('{"__proto__":{"type":"ping"}}')).code).toBe(
      'unknown_command',
    );
  });
});

describe('connect options through Sec-WebSocket-Protocol', () => {
  it('round-trips room, a non-ASCII nick and a token', () => {
    const protocols = connectProtocols({ room: 'dev', nick: '小明 Ω', token: 'a.b' });
    expect(protocols[0]).toBe('wschat.v1');
    for (const p of protocols) expect(p).toMatch(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/); // RFC 7230 token
    expect(readConnectOptions(protocols)).toEqual({
      room: 'dev',
      nick: '小明 Ω',
      token: 'a.b',
      protocol: 'wschat.v1',
    });
  });

  it('marks a nick that is not canonical base64url of UTF-8 as malformed instead of dropping it', () => {
    for (const entry of ['nick.a+b', 'nick.YQ==', 'nick.YR', 'nick._w']) {
      const options = readConnectOptions(['wschat.v1', entry]);
      expect(options.nick).toBeUndefined();
      expect(options.malformed).toMatch(/base64url/);
    }
    expect(readConnectOptions(['wschat.v1', 'nick.YQ']).malformed).toBeUndefined();
  });

  it('answers with the client’s first protocol when it does not speak ours', () => {
    expect(readConnectOptions(['chat', 'binary']).protocol).toBe('chat');
    expect(readConnectOptions([]).protocol).toBeUndefined();
  });
});

describe('envelope', () => {
  it('tags every server frame with the protocol version', () => {
    expect(JSON.parse(envelope({ type: 'pong', ts: 1 }))).toEqual({ v: 1, type: 'pong', ts: 1 });
  });
});
