import http from 'http';
import type { AddressInfo } from 'net';
import { classifyPushResponse, createHttpPushClient } from '../../../code/push/http-push-client';
import type { PushSettings } from '../../../code/config';

describe('classifyPushResponse', () => {
  it.each([
    [200, '{"errNo":0,"errMsg":"ok"}', 'delivered'],
    [200, '', 'delivered'],
    [200, 'not json', 'delivered'],
    [200, '{"errNo":1,"errMsg":"connection not found"}', 'gone'],
    [404, '', 'gone'],
    [410, '{"message":"GoneException"}', 'gone'],
    [429, '', 'retry'],
    [500, '', 'retry'],
    [503, '', 'retry'],
    [400, '{"errNo":400}', 'failed'],
    [403, '', 'failed'],
  ])('HTTP %i %s → %s', (status, body, verdict) => {
    expect(classifyPushResponse(status, body)).toBe(verdict);
  });
});

/** A real HTTP push endpoint whose answers the test scripts. */
async function pushServer(
  answer: (
    body: Record<string, unknown>,
    attempt: number,
  ) => [number, string, http.OutgoingHttpHeaders?] | 'hang',
) {
  const bodies: Array<Record<string, unknown>> = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push(body);
      paths.push(req.url ?? '');
      const reply = answer(body, bodies.length);
      if (reply === 'hang') return;
      res.writeHead(reply[0], { 'Content-Type': 'application/json', ...reply[2] });
      res.end(reply[1]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  const started = {
    url,
    bodies,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(started);
  return started;
}

/** Every server a test started; afterEach closes them, whether the test passed or not. */
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const settings = (url: string, extra: Partial<PushSettings> = {}): PushSettings => ({
  url,
  secret: 'push-client-test-secret-0123456789abcdef',
  concurrency: 4,
  timeoutMs: 300,
  retries: 2,
  budgetMs: 5000,
  ...extra,
});

describe('http push client', () => {
  it('posts the documented push body and reads the answer', async () => {
    const server = await pushServer(() => [200, '{"errNo":0,"errMsg":"ok"}']);
    const push = createHttpPushClient(settings(server.url));
    expect(await push.send('ab+/=', 'hello')).toBe('delivered');
    expect(await push.close('ab+/=')).toBe('delivered');
    expect(server.bodies).toEqual([
      { websocket: { action: 'data send', secConnectionID: 'ab+/=', dataType: 'text', data: 'hello' } },
      { websocket: { action: 'closing', secConnectionID: 'ab+/=' } },
    ]);
  });

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    const server = await pushServer((_b, attempt) =>
      attempt === 1 ? [503, ''] : attempt === 2 ? [429, ''] : [200, '{"errNo":0}'],
    );
    expect(await createHttpPushClient(settings(server.url)).send('a', 'x')).toBe('delivered');
    expect(server.bodies).toHaveLength(3);
  });

  it('waits as long as Retry-After says, capped at a second', async () => {
    const server = await pushServer((_b, attempt) =>
      attempt === 1 ? [429, '', { 'Retry-After': '0.3' }] : [200, '{"errNo":0}'],
    );
    const started = Date.now();
    expect(await createHttpPushClient(settings(server.url)).send('a', 'x')).toBe('delivered');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(server.bodies).toHaveLength(2);
  });

  it('posts to the push URL with its query string', async () => {
    const server = await pushServer(() => [200, '{"errNo":0}']);
    expect(await createHttpPushClient(settings(`${server.url}?env=release`)).send('a', 'x')).toBe(
      'delivered',
    );
    expect(server.paths).toEqual(['/push?env=release']);
  });

  it('gives up after the configured retries', async () => {
    const server = await pushServer(() => [500, '']);
    expect(await createHttpPushClient(settings(server.url, { retries: 1 })).send('a', 'x')).toBe('failed');
    expect(server.bodies).toHaveLength(2);
  });

  it('does not retry a gone connection or a client error', async () => {
    const server = await pushServer((body) =>
      (body.websocket as { secConnectionID: string }).secConnectionID === 'gone' ? [410, ''] : [400, ''],
    );
    const push = createHttpPushClient(settings(server.url));
    expect(await push.send('gone', 'x')).toBe('gone');
    expect(await push.send('bad', 'x')).toBe('failed');
    expect(server.bodies).toHaveLength(2);
  });

  it('times out a push the gateway never answers, and stops retrying at the deadline', async () => {
    const server = await pushServer(() => 'hang');
    const push = createHttpPushClient(settings(server.url, { timeoutMs: 100, retries: 5 }));
    const started = Date.now();
    expect(await push.send('a', 'x', { deadline: Date.now() + 250 })).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.bodies.length).toBeLessThanOrEqual(2);
  });

  it('fails cleanly when nothing listens at the push URL', async () => {
    const push = createHttpPushClient(settings('http://127.0.0.1:1/push', { retries: 1 }));
    expect(await push.send('a', 'x')).toBe('failed');
  });
});
