import {
  buildCloseEvent,
  buildConnectEvent,
  buildFrameEvent,
  connectionIdIfAny,
  GatewayEventError,
  MAX_CONTEXT_CHARS,
  parseCloseEvent,
  parseConnectEvent,
  parseFrameEvent,
  parseHttpEvent,
  parsePushBody,
  readRegisterReply,
  readTransportReply,
  registerReply,
  transportReply,
} from '../../../code/tencent/gateway';

// The documented samples (https://cloud.tencent.com/document/product/583/32553), verbatim in shape.
const docConnectEvent = {
  requestContext: {
    serviceName: 'testsvc',
    path: '/test/{testvar}',
    httpMethod: 'GET',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    identity: { secretId: 'abdcdxxxxxxxsdfs' },
    sourceIp: '10.0.2.14',
    stage: 'prod',
    websocketEnable: true,
  },
  websocket: {
    action: 'connecting',
    secConnectionID: 'xawexasdfewezdfsdfeasdfffa==',
    secWebSocketProtocol: 'chat,binary',
    secWebSocketExtensions: 'extension1,extension2',
  },
};

describe('parseConnectEvent', () => {
  it('reads the documented register event with sub-protocols', () => {
    expect(parseConnectEvent(docConnectEvent)).toEqual({
      connectionId: 'xawexasdfewezdfsdfeasdfffa==',
      protocols: ['chat', 'binary'],
      sourceIp: '10.0.2.14',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    });
  });

  it('reads a register event without secWebSocketProtocol (the field is absent, not empty)', () => {
    const { secWebSocketProtocol: _p, secWebSocketExtensions: _e, ...websocket } = docConnectEvent.websocket;
    expect(parseConnectEvent({ ...docConnectEvent, websocket }).protocols).toEqual([]);
  });

  it.each([
    ['a non-object', 'hello', 100],
    ['null', null, 100],
    ['an array', [1], 100],
    ['missing websocket', { requestContext: {} }, 102],
    ['missing ID', { websocket: { action: 'connecting' } }, 103],
    ['an empty ID', { websocket: { secConnectionID: '' } }, 103],
    ['an ID escaping the key prefix', { websocket: { secConnectionID: '../../etc' } }, 104],
    ['an ID that is not a string', { websocket: { secConnectionID: 42 } }, 103],
  ])('refuses %s with a clear error', (_name, event, errNo) => {
    let caught: unknown;
    try {
      parseConnectEvent(event);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayEventError);
    expect((caught as GatewayEventError).errNo).toBe(errNo);
    expect((caught as GatewayEventError).message.length).toBeGreaterThan(5);
  });

  it('ignores an inherited __proto__ websocket', () => {
    const event = JSON.parse('{"__proto__": {"websocket": {"secConnectionID": "abc="}}}') as unknown;
    expect(() => parseConnectEvent(event)).toThrow('not found websocket');
  });
});

describe('parseFrameEvent', () => {
  it.each(['data recv', 'data send', 'anything else'])('accepts action "%s" (sources disagree)', (action) => {
    expect(
      parseFrameEvent({ websocket: { action, secConnectionID: 'ab+/cd==', dataType: 'text', data: 'xxx' } }),
    ).toEqual({ connectionId: 'ab+/cd==', frameType: 'text', data: 'xxx' });
  });

  it('keeps binary data as base64 and marks it', () => {
    const event = {
      websocket: { action: 'data recv', secConnectionID: 'id', dataType: 'binary', data: 'AAEC' },
    };
    expect(parseFrameEvent(event).frameType).toBe('binary');
  });

  it('refuses a frame without data', () => {
    expect(() => parseFrameEvent({ websocket: { secConnectionID: 'id' } })).toThrow('not found data');
  });

  it("reads our gateway's inlineReplies flag, and only a literal true", () => {
    expect(parseFrameEvent(buildFrameEvent('a=', 'text', 'x', { inlineReplies: true }))).toEqual({
      connectionId: 'a=',
      frameType: 'text',
      data: 'x',
      inlineReplies: true,
    });
    expect(buildFrameEvent('a=', 'text', 'x').websocket).not.toHaveProperty('inlineReplies');
    const loose = { websocket: { secConnectionID: 'a=', dataType: 'text', data: 'x', inlineReplies: 1 } };
    expect(parseFrameEvent(loose)).not.toHaveProperty('inlineReplies');
  });
});

describe('transport answers', () => {
  it('carry replies and a context only when there are some, and the gateway reads back exactly those', () => {
    expect(transportReply({ replies: [] })).toEqual({ errNo: 0, errMsg: 'ok' });
    expect(readTransportReply(transportReply({ replies: [] }))).toEqual({ replies: [] });
    const outcome = { replies: ['{"a":1}', 'two'], context: '{"room":"r"}' };
    expect(readTransportReply(transportReply(outcome))).toEqual(outcome);
  });

  it('yield nothing the gateway could misuse: no frames but text, no context but a string of sane length', () => {
    for (const answer of [
      undefined,
      null,
      'ok',
      [],
      { errNo: 0 },
      { replies: 'x' },
      { replies: { 0: 'x' } },
    ]) {
      expect(readTransportReply(answer)).toEqual({ replies: [] });
    }
    expect(readTransportReply({ replies: ['a', 1, null, { b: 2 }, 'c'] })).toEqual({ replies: ['a', 'c'] });
    expect(readTransportReply({ context: 42 })).toEqual({ replies: [] });
    expect(readTransportReply({ context: 'x'.repeat(MAX_CONTEXT_CHARS + 1) })).toEqual({ replies: [] });
  });
});

describe('the connection context (ours)', () => {
  it('goes out with an accepting register reply, comes back in frame events, and is read only from an accepting one', () => {
    const reply = registerReply('a=', { ok: true, protocol: 'wschat.v1', context: 'ctx' });
    expect(readRegisterReply(reply)).toEqual({
      accepted: true,
      protocol: 'wschat.v1',
      errMsg: 'ok',
      context: 'ctx',
    });
    expect(readRegisterReply({ errNo: 403, errMsg: 'no', context: 'ctx' })).not.toHaveProperty('context');
    expect(parseFrameEvent(buildFrameEvent('a=', 'text', 'x', { context: 'ctx' }))).toMatchObject({
      context: 'ctx',
    });
    const long = {
      websocket: { secConnectionID: 'a=', data: 'x', context: 'x'.repeat(MAX_CONTEXT_CHARS + 1) },
    };
    expect(parseFrameEvent(long)).not.toHaveProperty('context');
  });

  it('comes back in the close event too, next to silent', () => {
    expect(parseCloseEvent(buildCloseEvent('a=', false, 'ctx'))).toEqual({
      connectionId: 'a=',
      context: 'ctx',
    });
    expect(parseCloseEvent(buildCloseEvent('a=', true, 'ctx'))).toEqual({
      connectionId: 'a=',
      silent: true,
      context: 'ctx',
    });
    expect(buildCloseEvent('a=').websocket).not.toHaveProperty('context');
  });
});

describe('parseCloseEvent and connectionIdIfAny', () => {
  it('reads the documented cleanup event', () => {
    expect(
      parseCloseEvent({ websocket: { action: 'closing', secConnectionID: 'xawexasdfewezdfsdfeasdfffa==' } }),
    ).toEqual({ connectionId: 'xawexasdfewezdfsdfeasdfffa==' });
  });

  it("reads our gateway's silent flag, and only a literal true", () => {
    expect(parseCloseEvent(buildCloseEvent('a=', true))).toEqual({ connectionId: 'a=', silent: true });
    expect(buildCloseEvent('a=')).toEqual({ websocket: { action: 'closing', secConnectionID: 'a=' } });
    expect(
      parseCloseEvent({ websocket: { action: 'closing', secConnectionID: 'a=', silent: 'yes' } }),
    ).toEqual({
      connectionId: 'a=',
    });
  });

  it('finds the ID in an otherwise broken event, and nothing in garbage', () => {
    expect(connectionIdIfAny({ websocket: { secConnectionID: 'abc=' } })).toBe('abc=');
    expect(connectionIdIfAny('garbage')).toBeUndefined();
  });
});

describe('register replies', () => {
  it('accepts with errNo 0 and one chosen sub-protocol', () => {
    expect(registerReply('id=', { ok: true, protocol: 'wschat.v1' })).toEqual({
      errNo: 0,
      errMsg: 'ok',
      websocket: { action: 'connecting', secConnectionID: 'id=', secWebSocketProtocol: 'wschat.v1' },
    });
  });

  it('refuses with a non-zero errNo that the gateway reads as a refusal', () => {
    const reply = registerReply('id=', { ok: false, errNo: 401, errMsg: 'unauthorized: token expired' });
    expect(reply.errNo).toBe(401);
    expect(readRegisterReply(reply)).toEqual({
      accepted: false,
      protocol: undefined,
      errMsg: 'unauthorized: token expired',
    });
    expect(readRegisterReply(registerReply('id=', { ok: true })).accepted).toBe(true);
    expect(readRegisterReply('nonsense').accepted).toBe(false);
  });

  it.each([
    ['unauthorized', 401],
    ['invalid', 400],
    ['unavailable', 503],
  ] as const)('maps the core’s %s refusal to errNo %d, keeping its message', (refusal, errNo) => {
    const reply = registerReply('id=', { ok: false, refusal, message: `${refusal}: because` });
    expect(reply).toMatchObject({ errNo, errMsg: `${refusal}: because` });
    expect(readRegisterReply(reply).accepted).toBe(false);
  });
});

describe('push bodies', () => {
  it('reads data send and closing, and refuses unknown actions', () => {
    expect(
      parsePushBody({
        websocket: { action: 'data send', secConnectionID: 'a', dataType: 'text', data: 'x' },
      }),
    ).toEqual({ kind: 'send', connectionId: 'a', frameType: 'text', data: 'x' });
    expect(parsePushBody({ websocket: { action: 'closing', secConnectionID: 'a' } })).toEqual({
      kind: 'close',
      connectionId: 'a',
    });
    expect(() => parsePushBody({ websocket: { action: 'explode', secConnectionID: 'a' } })).toThrow(
      'unknown push action',
    );
  });
});

describe('events built for the emulator', () => {
  it('round-trip through the parser, with the protocol field absent when none was offered', () => {
    const event = buildConnectEvent({
      connectionId: 'abc=',
      requestId: 'r',
      sourceIp: '127.0.0.1',
      path: '/ws',
    });
    expect('secWebSocketProtocol' in event.websocket).toBe(false);
    expect(parseConnectEvent(event).connectionId).toBe('abc=');
  });
});

describe('parseHttpEvent', () => {
  it('lower-cases header names and decodes base64 bodies', () => {
    const request = parseHttpEvent({
      httpMethod: 'post',
      path: '/publish',
      headers: { Authorization: 'Bearer t', 'X-N': 1 },
      body: Buffer.from('{"a":1}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(request).toEqual({
      method: 'POST',
      path: '/publish',
      headers: { authorization: 'Bearer t' },
      body: '{"a":1}',
    });
  });
});
