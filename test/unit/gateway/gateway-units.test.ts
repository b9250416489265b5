import fc from 'fast-check';
import { readFileSync } from 'fs';
import path from 'path';
import { signBody, verifyBody } from '../../../code/util/signature';
import { parseTarget } from '../../../code/gateway/http';
import { GATEWAY_ENV_VARS, loadGatewayConfig } from '../../../code/gateway/config';
import { ConfigError } from '../../../code/util/env';
import { Connection, type ClientChannel } from '../../../code/gateway/connection';
import { createMetrics } from '../../../code/gateway/metrics';
import { newConnectionId, nodeOf } from '../../../code/gateway/hub';
import { resolveStatic } from '../../../code/gateway/static-files';
import { unwrapFunctionUrlEvent, readHttpReply } from '../../../code/tencent/function-url';
import { parseConnectEvent, buildConnectEvent } from '../../../code/tencent/gateway';

const SECRET = 'unit-test-gateway-secret-0123456789abcdef';

describe('signatures', () => {
  it('verify exactly what was signed, for its purpose, within the window', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (body, other) => {
        const header = signBody(SECRET, 'push', body);
        expect(verifyBody(SECRET, 'push', body, header)).toEqual({ ok: true });
        if (other !== body)
          expect(verifyBody(SECRET, 'push', other, header)).toEqual({ ok: false, reason: 'mismatch' });
        expect(verifyBody(SECRET, 'invoke', body, header)).toEqual({ ok: false, reason: 'mismatch' });
        expect(verifyBody(`${SECRET}x`, 'push', body, header)).toEqual({ ok: false, reason: 'mismatch' });
      }),
    );
  });

  it('refuse missing, malformed and stale headers', () => {
    const now = Date.now();
    expect(verifyBody(SECRET, 'push', 'x', undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyBody(SECRET, 'push', 'x', 't=1,v1=00')).toEqual({ ok: false, reason: 'malformed' });
    const old = signBody(SECRET, 'push', 'x', now - 301_000);
    expect(verifyBody(SECRET, 'push', 'x', old, now)).toEqual({ ok: false, reason: 'expired' });
    const soon = signBody(SECRET, 'push', 'x', now + 299_000);
    expect(verifyBody(SECRET, 'push', 'x', soon, now)).toEqual({ ok: true });
  });
});

describe('request targets', () => {
  it.each(['/%E0', '//[', 'http://x:99999/', '*', '', 'ws', '/a\u0000', `/${'a'.repeat(9000)}`])(
    'refuses %j',
    (raw) => {
      expect(parseTarget(raw)).toBeUndefined();
    },
  );

  it('parses origin-form targets and never throws on any string', () => {
    expect(parseTarget('/ws?x=1')).toMatchObject({ pathname: '/ws' });
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const target = parseTarget(raw);
        if (target) expect(target.pathname.startsWith('/')).toBe(true);
      }),
    );
  });

  it('keeps static paths inside the web folder', () => {
    expect(resolveStatic('/srv/web', '/')).toBe(path.resolve('/srv/web/index.html'));
    expect(resolveStatic('/srv/web', '/%2e%2e/etc/passwd')).toBeUndefined();
    expect(resolveStatic('/srv/web', '/.env')).toBeUndefined();
    expect(resolveStatic('/srv/web', '/%E0')).toBeUndefined();
  });
});

describe('gateway configuration', () => {
  const env = {
    GATEWAY_SECRET: SECRET,
    REGISTER_FUNCTION_URL: 'https://1250000000-abc.in.ap-guangzhou.tencentscf.com',
    TRANSPORT_FUNCTION_URL: 'https://1250000000-def.in.ap-guangzhou.tencentscf.com',
    CLEANUP_FUNCTION_URL: 'https://1250000000-ghi.in.ap-guangzhou.tencentscf.com',
  };
  const errorOf = (extra: Record<string, string>) => {
    try {
      loadGatewayConfig({ ...env, ...extra });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('no error');
  };

  it('reads a production configuration with defaults', () => {
    const config = loadGatewayConfig({
      ...env,
      GATEWAY_PEERS: 'b=http://10.0.0.2:8081, c=http://10.0.0.3:8081/',
    });
    expect(config.publicPort).toBe(8080);
    expect(config.pushHost).toBe('127.0.0.1');
    expect(config.peers.get('c')).toBe('http://10.0.0.3:8081');
    expect(config.limits.maxInflightPerConnection).toBe(1);
  });

  it.each([
    ['GATEWAY_SECRET', { GATEWAY_SECRET: 'short' }],
    ['REGISTER_FUNCTION_URL', { REGISTER_FUNCTION_URL: '' }],
    ['TRANSPORT_FUNCTION_URL', { TRANSPORT_FUNCTION_URL: 'ftp://x' }],
    ['GATEWAY_PORT', { GATEWAY_PORT: 'abc' }],
    ['GATEWAY_PEERS', { GATEWAY_PEERS: 'no-equals' }],
    ['GATEWAY_NODE_ID', { GATEWAY_NODE_ID: 'has space' }],
    ['GATEWAY_LOG_LEVEL', { GATEWAY_LOG_LEVEL: 'loud' }],
    ['GATEWAY_INVOKER', { GATEWAY_INVOKER: 'modules' }],
    ['GATEWAY_MAX_CONNECTIONS', { GATEWAY_MAX_CONNECTIONS: '1.5' }],
  ])('names %s when it is wrong', (name, extra) => {
    expect(errorOf(extra)).toContain(name);
  });

  it('documents every variable in docs/gateway.md', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/gateway.md'), 'utf8');
    for (const spec of GATEWAY_ENV_VARS) expect(doc).toContain(`\`${spec.name}\``);
  });
});

describe('a connection’s limits', () => {
  const channel: ClientChannel = {
    kind: 'websocket',
    send() {},
    bufferedBytes: () => 0,
    close() {},
    terminate() {},
    ping() {},
  };
  const limits = loadGatewayConfig({
    GATEWAY_SECRET: SECRET,
    REGISTER_FUNCTION_URL: 'http://x',
    TRANSPORT_FUNCTION_URL: 'http://x',
    CLEANUP_FUNCTION_URL: 'http://x',
    GATEWAY_FRAMES_PER_SECOND: '2',
    GATEWAY_FRAME_BURST: '2',
    GATEWAY_MAX_QUEUED_FRAMES: '3',
  }).limits;
  const frame = { data: Buffer.from('hi'), binary: false };

  it('passes a burst, then spaces frames at the rate, one invocation at a time', () => {
    const conn = new Connection('n+id', '1.2.3.4', channel, limits, 0);
    for (let i = 0; i < 3; i += 1) expect(conn.enqueue(frame)).toBe(true);
    expect(conn.enqueue(frame)).toBe(false); // the flood point
    expect(conn.take(0)).toBe(frame);
    conn.inflight = 1;
    expect(conn.take(0)).toBe(0); // its one slot is busy
    conn.inflight = 0;
    expect(conn.take(0)).toBe(frame);
    expect(conn.take(0)).toBe(500); // burst spent: the next token in 500 ms at 2/s
    expect(conn.take(500)).toBe(frame);
  });
});

describe('connection IDs, metrics and function-URL events', () => {
  it('name their node and pass Tencent’s connection ID format', () => {
    const id = newConnectionId('n7');
    expect(nodeOf(id)).toBe('n7');
    expect(
      parseConnectEvent(
        buildConnectEvent({ connectionId: id, requestId: 'r', sourceIp: '1.1.1.1', path: '/ws' }),
      ).connectionId,
    ).toBe(id);
  });

  it('renders counters and the invocation histogram in Prometheus text', () => {
    const metrics = createMetrics();
    metrics.inc('frames_total');
    metrics.inc('pushes_total', { outcome: 'gone' }, 2);
    metrics.observeInvocation('transport', 'ok', 0.02);
    const text = metrics.render({ connections: 3, inflight_invocations: 0, queued_frames: 0, draining: 0 });
    expect(text).toContain('wschat_gateway_connections 3');
    expect(text).toContain('wschat_gateway_pushes_total{outcome="gone"} 2');
    expect(text).toContain(
      'wschat_gateway_invocation_duration_seconds_bucket{function="transport",outcome="ok",le="0.025"} 1',
    );
    expect(text).toContain(
      'wschat_gateway_invocation_duration_seconds_count{function="transport",outcome="ok"} 1',
    );
  });

  it('unwraps only correctly signed function-URL events', () => {
    const inner = JSON.stringify({ websocket: { action: 'closing', secConnectionID: 'a+b' } });
    const event = (signature: string) => ({
      body: inner,
      headers: { 'x-wschat-signature': signature },
      httpMethod: 'POST',
      path: '/',
      queryString: {},
    });
    expect(unwrapFunctionUrlEvent(event(signBody(SECRET, 'invoke', inner)), SECRET)).toEqual({
      kind: 'signed',
      event: JSON.parse(inner),
    });
    expect(unwrapFunctionUrlEvent(event(signBody(SECRET, 'push', inner)), SECRET).kind).toBe('refused');
    expect(unwrapFunctionUrlEvent(event(signBody(SECRET, 'invoke', inner)), undefined).kind).toBe('refused');
    expect(unwrapFunctionUrlEvent({ websocket: {} }, SECRET).kind).toBe('plain');
  });

  it('reads a function’s HTTP reply only when it is well formed', () => {
    expect(readHttpReply({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' })).toEqual(
      { statusCode: 200, contentType: 'text/plain', body: 'ok' },
    );
    expect(readHttpReply({ statusCode: 99, body: '' })).toBeUndefined();
    expect(readHttpReply({ statusCode: 200, body: {} })).toBeUndefined();
    expect(readHttpReply('x')).toBeUndefined();
  });
});
