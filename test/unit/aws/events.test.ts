import fc from 'fast-check';
import {
  AwsEventError,
  buildCloseEvent,
  buildConnectEvent,
  buildFrameEvent,
  buildHttpApiEvent,
  connectResult,
  parseCloseEvent,
  parseConnectEvent,
  parseConnectionsCall,
  parseFrameEvent,
  parseHttpApiEvent,
  readConnectResult,
  toAwsId,
  toCoreId,
} from '../../../code/aws/events';

/** AWS's event shapes, as the API Gateway developer guide shows them, read into the core's request types. */

const CONNECT_EVENT = {
  headers: {
    Host: 'abc.execute-api.us-east-1.amazonaws.com',
    'Sec-WebSocket-Protocol': 'wschat.v1, nick.YQ',
  },
  isBase64Encoded: false,
  requestContext: {
    routeKey: '$connect',
    eventType: 'CONNECT',
    stage: 'dev',
    requestId: 'N0ffOFSToAMFQ6g=',
    identity: { sourceIp: '203.0.113.7', userAgent: 'test' },
    domainName: 'abc.execute-api.us-east-1.amazonaws.com',
    connectionId: 'L0SM9cOFvHcCIhw=',
    apiId: 'abc',
  },
};

describe('AWS events', () => {
  it('reads $connect: ID, offered sub-protocols (any header case), source IP and request ID', () => {
    expect(parseConnectEvent(CONNECT_EVENT)).toEqual({
      connectionId: 'L0SM9cOFvHcCIhw=',
      protocols: ['wschat.v1', 'nick.YQ'],
      sourceIp: '203.0.113.7',
      requestId: 'N0ffOFSToAMFQ6g=',
    });
    const lower = { ...CONNECT_EVENT, headers: { 'sec-websocket-protocol': 'wschat.v1' } };
    expect(parseConnectEvent(lower).protocols).toEqual(['wschat.v1']);
  });

  it('reads $default text and binary frames, and $disconnect', () => {
    expect(parseFrameEvent(buildFrameEvent('abc=', 'text', 'hi'))).toEqual({
      connectionId: 'abc=',
      frameType: 'text',
      data: 'hi',
    });
    expect(parseFrameEvent(buildFrameEvent('abc=', 'binary', 'AAE='))).toMatchObject({ frameType: 'binary' });
    expect(parseCloseEvent(buildCloseEvent('abc='))).toEqual({ connectionId: 'abc=' });
  });

  it('refuses events it cannot read with a clear error', () => {
    expect(() => parseFrameEvent('nope')).toThrow(new AwsEventError('event is not a JSON object'));
    expect(() => parseFrameEvent({ body: 'x' })).toThrow('event has no requestContext');
    expect(() => parseFrameEvent({ requestContext: { connectionId: 'a b' }, body: 'x' })).toThrow(
      'malformed',
    );
    expect(() => parseFrameEvent({ requestContext: { connectionId: 'abc=' } })).toThrow('event has no body');
  });

  it('answers $connect: 2xx with the chosen protocol echoed, or the refusal status', () => {
    expect(connectResult({ ok: true, protocol: 'wschat.v1' })).toEqual({
      statusCode: 200,
      headers: { 'Sec-WebSocket-Protocol': 'wschat.v1' },
    });
    expect(connectResult({ ok: false, refusal: 'unauthorized', message: 'unauthorized: no token' })).toEqual({
      statusCode: 401,
      body: 'unauthorized: no token',
    });
    expect(readConnectResult(connectResult({ ok: true, protocol: 'p' }))).toEqual({
      accepted: true,
      protocol: 'p',
      errMsg: '',
    });
    expect(readConnectResult({ statusCode: 503, body: 'busy' })).toEqual({
      accepted: false,
      errMsg: 'busy',
      status: 503,
    });
    expect(readConnectResult('x')).toMatchObject({ accepted: false, status: 502 });
    expect(readConnectResult({ statusCode: 302 })).toMatchObject({ accepted: false, status: 502 });
  });

  it('round-trips the builders the local gateway uses', () => {
    const event = buildConnectEvent({
      connectionId: 'n1+abc/d=',
      requestId: 'r',
      sourceIp: '1.2.3.4',
      protocols: ['a', 'b'],
    });
    expect(parseConnectEvent(event)).toEqual({
      connectionId: 'n1+abc/d=',
      protocols: ['a', 'b'],
      sourceIp: '1.2.3.4',
      requestId: 'r',
    });
    const http = buildHttpApiEvent({
      method: 'POST',
      path: '/publish',
      headers: { Authorization: 'Bearer t' },
      body: '{}',
    });
    expect(parseHttpApiEvent(http)).toEqual({
      method: 'POST',
      path: '/publish',
      headers: { authorization: 'Bearer t' },
      body: '{}',
    });
  });

  it('keeps AWS IDs as they are and carries any other ID reversibly in the base64 alphabet', () => {
    expect(toCoreId('L0SM9cOFvHcCIhw=')).toBe('L0SM9cOFvHcCIhw=');
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/=_-]{1,64}$/), (id) => {
        const core = toCoreId(id);
        expect(core).toMatch(/^=?[A-Za-z0-9+/]+={0,2}$/);
        expect(toAwsId(core)).toBe(id);
      }),
    );
  });

  it('reads @connections calls, with or without a stage, and nothing else', () => {
    expect(parseConnectionsCall('POST', '/@connections/L0SM9cOFvHcCIhw%3D')).toEqual({
      kind: 'send',
      connectionId: 'L0SM9cOFvHcCIhw=',
    });
    expect(parseConnectionsCall('DELETE', '/dev/@connections/abc')).toEqual({
      kind: 'close',
      connectionId: 'abc',
    });
    expect(parseConnectionsCall('GET', '/@connections/abc')).toEqual({ kind: 'info', connectionId: 'abc' });
    expect(parseConnectionsCall('PUT', '/@connections/abc')).toBeUndefined();
    expect(parseConnectionsCall('POST', '/@connections/%E0%A4%A')).toBeUndefined();
    expect(parseConnectionsCall('POST', '/push')).toBeUndefined();
  });
});
