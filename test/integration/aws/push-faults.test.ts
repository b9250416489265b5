import http from 'http';
import type { AddressInfo } from 'net';
import { createAwsPushClient } from '../../../code/push/aws-push-client';
import { toCoreId } from '../../../code/aws/events';
import type { AwsPushSettings } from '../../../code/config-aws';

/**
 * The AWS push path's faults, against a local HTTP server that answers as the management API documents
 * (restJson1: the error's name in `x-amzn-ErrorType`, `{"message"}` in the body; GoneException is HTTP 410 and
 * LimitExceededException 429 in the SDK's model, schemas_0.js). The real SDK client sends, signs and retries.
 */

interface Seen {
  method: string;
  path: string;
  body: string;
  authorization?: string;
}

type Answer = { status: number; type?: string } | 'hang';

function startApi(answers: Answer[]) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body,
        authorization: req.headers.authorization,
      });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer === 'hang') return;
      if (!answer.type) return void res.writeHead(answer.status, { 'Content-Length': 0 }).end();
      const text = JSON.stringify({ message: `${answer.type} from the test` });
      res
        .writeHead(answer.status, { 'x-amzn-ErrorType': answer.type, 'Content-Type': 'application/json' })
        .end(text);
    });
  });
  return {
    seen,
    async url() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const settings = (endpoint: string, retries = 2): AwsPushSettings => ({
  endpoint,
  region: 'us-east-1',
  concurrency: 8,
  timeoutMs: 2000,
  retries,
  budgetMs: 20000,
});

describe('AWS push client faults (real SDK, local management API)', () => {
  let api: ReturnType<typeof startApi>;
  afterEach(() => api.close());

  async function client(answers: Answer[], retries = 2) {
    api = startApi(answers);
    return createAwsPushClient(settings(await api.url(), retries), { localCredentials: true });
  }

  it('delivers with a signed POST /@connections/{id} carrying the message', async () => {
    const push = await client([{ status: 200 }]);
    expect(await push.send('L0SM9cOFvHcCIhw=', '{"type":"notice"}')).toBe('delivered');
    expect(api.seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/@connections/L0SM9cOFvHcCIhw%3D',
        body: '{"type":"notice"}',
      }),
    ]);
    expect(api.seen[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\//);
  });

  it('410 GoneException is gone, answered at once: no retry', async () => {
    const push = await client([{ status: 410, type: 'GoneException' }]);
    expect(await push.send('L0SM9cOFvHcCIhw=', 'x')).toBe('gone');
    expect(await push.close('L0SM9cOFvHcCIhw=')).toBe('gone');
    expect(api.seen.map((s) => s.method)).toEqual(['POST', 'DELETE']);
  });

  it('retries 429 LimitExceededException (the operation’s throttling error) and delivers', async () => {
    const push = await client([
      { status: 429, type: 'LimitExceededException' },
      { status: 429, type: 'LimitExceededException' },
      { status: 200 },
    ]);
    expect(await push.send('abc=', 'x')).toBe('delivered');
    expect(api.seen).toHaveLength(3);
  });

  it('retries 429 TooManyRequestsException and 5xx, then delivers', async () => {
    const push = await client([
      { status: 429, type: 'TooManyRequestsException' },
      { status: 503 },
      { status: 200 },
    ]);
    expect(await push.send('abc=', 'x')).toBe('delivered');
    expect(api.seen).toHaveLength(3);
  });

  it('gives up after PUSH_RETRIES retries of throttling: failed, not gone (the connection is kept)', async () => {
    const push = await client([{ status: 429, type: 'TooManyRequestsException' }], 1);
    expect(await push.send('abc=', 'x')).toBe('failed');
    expect(api.seen).toHaveLength(2);
  });

  it('does not retry ForbiddenException or PayloadTooLargeException: failed', async () => {
    const push = await client([
      { status: 403, type: 'ForbiddenException' },
      { status: 413, type: 'PayloadTooLargeException' },
    ]);
    expect(await push.send('abc=', 'x')).toBe('failed');
    expect(await push.send('abc=', 'x')).toBe('failed');
    expect(api.seen).toHaveLength(2);
  });

  it('stops at the broadcast deadline when the API does not answer', async () => {
    const push = await client(['hang']);
    const started = Date.now();
    expect(await push.send('abc=', 'x', { deadline: started + 300 })).toBe('failed');
    expect(await push.send('abc=', 'x', { deadline: Date.now() - 1 })).toBe('failed');
    expect(api.seen).toHaveLength(1);
  });

  it('calls the API with the emulator’s own ID when the core carries a translated one', async () => {
    const push = await client([{ status: 200 }]);
    const uuid = '8e8e273e-4954-4127-8737-0af346b27510';
    expect(toCoreId(uuid)).not.toContain('-');
    expect(await push.send(toCoreId(uuid), 'x')).toBe('delivered');
    expect(api.seen[0]!.path).toBe(`/@connections/${uuid}`);
  });
});
