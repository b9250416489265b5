import http from 'http';
import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../../helpers/ws-client';
import { connectProtocols } from '../../../code/chat/protocol';
import { encodeConnectionId } from '../../../code/registry/keys';
import { loadAwsConfig } from '../../../code/config-aws';
import { createAwsContainer } from '../../../code/functions/aws/shell';
import { createConnectHandler } from '../../../code/functions/aws/connect';
import { buildConnectEvent } from '../../../code/aws/events';
import { createAwsPushClient } from '../../../code/push/aws-push-client';
import { createLogger } from '../../../code/chat/log';

/**
 * `npm run start:aws`: the same gateway in AWS's shape (API Gateway WebSocket events, the @connections API), the
 * Lambda handlers (code/functions/aws) and the real @aws-sdk/client-s3 and management API client over HTTP, with
 * real `ws` clients.
 */

function registeredIds(stack: LocalStack, room = 'lobby'): string[] {
  const prefix = `wschat/room/${room}/`;
  return stack.cos
    .keys(stack.bucket, prefix)
    .map((k) => k.slice(prefix.length))
    .sort();
}

const liveIds = (stack: LocalStack) => stack.gateway.connectionIds().map(encodeConnectionId).sort();

function request(
  method: string,
  url: string,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local stack in AWS shape (npm run start:aws)', () => {
  let stack: LocalStack;
  const clients: TestClient[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      platform: 'aws',
      port: 0,
      idleTimeoutMs: 60_000,
      env: { HANDSHAKE_GRACE_MS: '0', PUBLISH_TOKEN: 'publish-token-for-tests' },
      log: (line) => lines.push(line),
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await eventually(() => stack.gateway.connectionIds().length === 0, 5000, 'all closed');
    await eventually(() => registeredIds(stack).length === 0, 5000, 'registry empty');
  });
  afterAll(() => stack.close());

  it('runs the Lambda handlers with AWS events and S3: clients chat, the registry matches the live sockets', async () => {
    expect(stack.env).toMatchObject({
      S3_BUCKET: stack.bucket,
      PUSH_ENDPOINT: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const alice = await connectClient(stack.wsUrl, connectProtocols({ nick: 'alice' }));
    const bob = await connectClient(stack.wsUrl, connectProtocols({ nick: 'bob' }));
    clients.push(alice, bob);
    expect(registeredIds(stack)).toEqual(liveIds(stack));
    alice.send('hello over AWS');
    expect(await bob.next(ofType('message'))).toMatchObject({
      from: 'alice',
      text: 'hello over AWS',
      online: 2,
    });
    expect(await alice.next(ofType('ack'))).toMatchObject({ for: 'message', delivered: 1 });
    await bob.close();
    expect(await alice.next(ofType('presence', { event: 'leave' }))).toMatchObject({ nick: 'bob' });
  });

  it('a refused $connect is an HTTP error with the handler’s own status, as on AWS, and admits nobody', async () => {
    await expect(connectClient(stack.wsUrl, connectProtocols({ nick: '<bad nick>' }))).rejects.toThrow(
      'HTTP 400',
    );
    expect(stack.gateway.connectionIds()).toEqual([]);
    expect(registeredIds(stack)).toEqual([]);
  });

  it('speaks the management API: POST delivers, GET describes, DELETE closes, unknown IDs answer 410 GoneException', async () => {
    const carol = await connectClient(stack.wsUrl, connectProtocols({ nick: 'carol' }));
    clients.push(carol);
    const [id] = stack.gateway.connectionIds();
    const url = `${stack.env.PUSH_ENDPOINT}/@connections/${encodeURIComponent(id!)}`;
    const posted = await request('POST', url, JSON.stringify({ type: 'notice', text: 'pushed' }));
    expect(posted.status).toBe(200);
    expect(await carol.next(ofType('notice'))).toMatchObject({ text: 'pushed' });
    const info = await request('GET', url);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toEqual({ Identity: { SourceIp: '127.0.0.1' } });
    const gone = await request('POST', `${stack.env.PUSH_ENDPOINT}/@connections/nosuchid`, 'x');
    expect(gone.status).toBe(410);
    expect(gone.headers['x-amzn-errortype']).toBe('GoneException');
    expect((await request('PUT', url, 'x')).status).toBe(404);
    const deleted = await request('DELETE', url);
    expect(deleted.status).toBe(204);
    expect(await carol.closed).toBe(1000);
  });

  it('a push to a gone connection prunes that connection (the target), never the sender', async () => {
    const dave = await connectClient(stack.wsUrl, connectProtocols({ nick: 'dave' }));
    clients.push(dave);
    // A connection that $connect stored but API Gateway no longer holds (its $disconnect was lost).
    const container = createAwsContainer(
      loadAwsConfig(stack.env),
      createLogger(() => undefined),
    );
    const connect = createConnectHandler(() => container);
    const ghost = 'GhostConnId0=';
    expect(
      await connect(
        buildConnectEvent({
          connectionId: ghost,
          requestId: 'r1',
          sourceIp: '10.0.0.9',
          protocols: connectProtocols({ nick: 'ghost' }),
        }),
        {},
      ),
    ).toMatchObject({ statusCode: 200 });
    expect(registeredIds(stack)).toContain(encodeConnectionId(ghost));
    dave.send('anyone here?');
    expect(await dave.next(ofType('ack'))).toMatchObject({ for: 'message' });
    await eventually(() => !registeredIds(stack).includes(encodeConnectionId(ghost)), 5000, 'ghost pruned');
    expect(registeredIds(stack)).toEqual(liveIds(stack));
  });

  it('the AWS push client reads the local API as it reads AWS: delivered, then gone once the socket closed', async () => {
    const erin = await connectClient(stack.wsUrl, connectProtocols({ nick: 'erin' }));
    const [id] = stack.gateway.connectionIds();
    const push = createAwsPushClient({ ...loadAwsConfig(stack.env).push }, { localCredentials: true });
    expect(await push.send(id!, JSON.stringify({ type: 'notice', text: 'sdk' }))).toBe('delivered');
    expect(await erin.next(ofType('notice'))).toMatchObject({ text: 'sdk' });
    await erin.close();
    await eventually(() => stack.gateway.connectionIds().length === 0, 5000, 'closed');
    expect(await push.send(id!, 'late')).toBe('gone');
    expect(await push.close(id!)).toBe('gone');
  });

  it('routes the publish API to the Lambda handler as an HTTP API event', async () => {
    const frank = await connectClient(stack.wsUrl, connectProtocols({ nick: 'frank' }));
    clients.push(frank);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${stack.url}publish`,
        {
          method: 'POST',
          headers: { Authorization: 'Bearer publish-token-for-tests', 'Content-Type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ room: 'lobby', text: 'from the backend', from: 'ops' }));
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ delivered: 1 });
    expect(await frank.next(ofType('message'))).toMatchObject({ from: 'ops', text: 'from the backend' });
  });

  it('runs the sweep with a scheduled event', async () => {
    await expect(stack.sweep()).resolves.toMatchObject({});
  });
});
