import { spawn, type ChildProcess } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import { createCosServer } from '../../../scripts/local/cos-server';
import { connectProtocols, SUBPROTOCOL } from '../../../code/chat/protocol';
import { createLogger } from '../../../code/chat/log';
import { createAwsContainer } from '../../../code/functions/aws/shell';
import { loadAwsConfig } from '../../../code/config-aws';
import { decodeConnectionId } from '../../../code/registry/keys';
import { freePorts } from '../../helpers/ports';
import { connectClient, eventually, ofType, type TestClient } from '../../helpers/ws-client';

/**
 * The AWS handlers (the built dist/aws bundles, as serverless.yml packages them) under the community's emulator,
 * serverless-offline: its WebSocket server, its @connections API, the real @aws-sdk clients, and our local S3
 * server for the bucket. Needs `npm run build` first (npm test builds).
 */

const ROOT = path.resolve(__dirname, '../../..');
const BUCKET = 'wschat-offline';

describe('the AWS handlers under serverless-offline', () => {
  const s3 = createCosServer({ buckets: [BUCKET], mountPath: '/_cos' });
  const s3Server = http.createServer((req, res) => {
    if (!s3.handle(req, res)) res.writeHead(404).end();
  });
  let offline: ChildProcess;
  let output = '';
  let wsUrl = '';
  let env: Record<string, string> = {};
  const clients: TestClient[] = [];

  const registered = (room = 'lobby') =>
    s3
      .keys(BUCKET, `wschat/room/${room}/`)
      .map((k) => decodeConnectionId(k.slice(`wschat/room/${room}/`.length)))
      .sort();

  beforeAll(async () => {
    await new Promise<void>((resolve) => s3Server.listen(0, '127.0.0.1', resolve));
    const [httpPort, websocketPort, lambdaPort] = await freePorts(3);
    const s3Endpoint = `http://127.0.0.1:${(s3Server.address() as AddressInfo).port}/_cos`;
    env = {
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: s3Endpoint,
      AWS_REGION: 'us-east-1',
      PUSH_ENDPOINT: `http://127.0.0.1:${websocketPort}`,
    };
    offline = spawn(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/serverless/bin/serverless.js'),
        'offline',
        '--stage',
        'offline',
        '--httpPort',
        String(httpPort),
        '--websocketPort',
        String(websocketPort),
        '--lambdaPort',
        String(lambdaPort),
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          S3_ENDPOINT: s3Endpoint,
          OFFLINE_WEBSOCKET_PORT: String(websocketPort),
          HANDSHAKE_GRACE_MS: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    offline.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    offline.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      () => /Server ready/.test(output) || offline.exitCode !== null,
      60_000,
      'serverless offline up',
    );
    if (offline.exitCode !== null) throw new Error(`serverless offline exited:\n${output}`);
    wsUrl = `ws://127.0.0.1:${websocketPort}`;
  }, 90_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    if (offline && offline.exitCode === null) {
      const exited = new Promise((resolve) => offline.once('exit', resolve));
      offline.kill('SIGTERM');
      await exited;
    }
    s3Server.closeAllConnections();
    await new Promise<void>((resolve) => s3Server.close(() => resolve()));
  });

  it('connects real ws clients through $connect, carries a message through $default and pushes it to the other', async () => {
    const alice = await connectClient(wsUrl, connectProtocols({ nick: 'alice' }));
    const bob = await connectClient(wsUrl, connectProtocols({ nick: 'bob' }));
    clients.push(alice, bob);
    expect(alice.socket.protocol).toBe(SUBPROTOCOL);
    await eventually(() => registered().length === 2, 5000, 'both registered');
    alice.send('hello from serverless-offline');
    expect(await bob.next(ofType('message'), 10_000)).toMatchObject({
      from: 'alice',
      text: 'hello from serverless-offline',
    });
    expect(await alice.next(ofType('ack'), 10_000)).toMatchObject({
      for: 'message',
      delivered: 1,
      failed: 0,
    });
    await bob.close();
    await eventually(() => registered().length === 1, 10_000, '$disconnect removed bob');
  });

  it('a push that serverless-offline answers 410 prunes the target, and keeps the sender', async () => {
    const carol = await connectClient(wsUrl, connectProtocols({ nick: 'carol' }));
    clients.push(carol);
    await eventually(() => registered().length === 1, 5000, 'carol registered');
    const [carolId] = registered();
    // A connection stored by $connect whose $disconnect never came: the emulator no longer knows it.
    const container = createAwsContainer(
      loadAwsConfig(env),
      createLogger(() => undefined),
    );
    const ghost = 'GhostConnection0=';
    await expect(
      container.chat.connect({ connectionId: ghost, protocols: connectProtocols({ nick: 'ghost' }) }),
    ).resolves.toMatchObject({ ok: true });
    expect(registered()).toEqual([carolId, ghost].sort());
    carol.send('is anyone there?');
    expect(await carol.next(ofType('ack'), 10_000)).toMatchObject({
      for: 'message',
      delivered: 0,
      failed: 0,
    });
    await eventually(() => !registered().includes(ghost), 10_000, 'ghost pruned');
    expect(registered()).toEqual([carolId]);
  });
});
