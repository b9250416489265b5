import http from 'http';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';
import { connectProtocols } from '../../code/chat/protocol';

/** Rooms, nicknames, presence, history and the HTTP publish API, end to end on the local stack. */

const PUBLISH_TOKEN = 'publish-secret-for-tests';

function post(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(payload),
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let raw = '';
        res.on('data', (c: Buffer) => (raw += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('chat features on the local stack', () => {
  let stack: LocalStack;
  const clients: TestClient[] = [];
  const join = async (options: { room?: string; nick?: string }) => {
    const client = await connectClient(stack.wsUrl, connectProtocols(options));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, env: { PUBLISH_TOKEN, HISTORY_LIMIT: '50' } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => stack.close());

  it('keeps two rooms isolated from each other', async () => {
    const red1 = await join({ room: 'red', nick: 'r1' });
    const red2 = await join({ room: 'red', nick: 'r2' });
    const blue = await join({ room: 'blue', nick: 'b1' });
    red1.send('for red only');
    blue.send('for blue only');
    expect(await red2.next(ofType('message'))).toMatchObject({ text: 'for red only', room: 'red' });
    expect(await red1.next(ofType('ack'))).toMatchObject({ delivered: 1, online: 2 });
    expect(await blue.next(ofType('ack'))).toMatchObject({ delivered: 0, online: 1 });
    expect(red2.frames.filter(ofType('message')).map((f) => f.text)).toEqual(['for red only']);
    expect(blue.frames.filter(ofType('message'))).toEqual([]);
  });

  it('announces presence with counts, and shows a nickname change to others', async () => {
    // As our clients do: connect, then join the room connected to; the room hears of the arrival then.
    const arrive = async (nick: string) => {
      const client = await join({ room: 'presence', nick });
      client.send({ type: 'join', room: 'presence', ref: 'arrive' });
      await client.next(ofType('ack', { for: 'join' }));
      return client;
    };
    const a = await arrive('anna');
    const b = await arrive('ben');
    expect(await a.next(ofType('presence', { event: 'join' }))).toMatchObject({ nick: 'ben', online: 2 });
    const c = await arrive('cleo');
    expect(await a.next(ofType('presence', { event: 'join' }))).toMatchObject({ nick: 'cleo', online: 3 });
    b.send({ type: 'nick', nick: 'benjamin' });
    expect(await b.next(ofType('ack', { for: 'nick' }))).toMatchObject({ nick: 'benjamin', online: 3 });
    expect(await c.next(ofType('presence', { event: 'nick' }))).toMatchObject({
      nick: 'benjamin',
      previous: 'ben',
    });
    b.send('renamed');
    expect(await a.next(ofType('message'))).toMatchObject({ from: 'benjamin', text: 'renamed' });
    await c.close();
    expect(await a.next(ofType('presence', { event: 'leave' }))).toMatchObject({ nick: 'cleo', online: 2 });
  });

  it('moves between rooms with the join command and sends the new room’s history', async () => {
    const mover = await join({ room: 'first', nick: 'mover' });
    const other = await join({ room: 'second', nick: 'other' });
    other.send('said before you came');
    await other.next(ofType('ack'));
    mover.send({ type: 'join', room: 'second', ref: 'j1' });
    expect(await mover.next(ofType('ack', { for: 'join' }))).toMatchObject({
      room: 'second',
      ref: 'j1',
      online: 2,
    });
    const history = await mover.next(ofType('history'));
    expect((history.messages as Array<Record<string, unknown>>).map((m) => m.text)).toEqual([
      'said before you came',
    ]);
    expect(await other.next(ofType('presence', { event: 'join' }))).toMatchObject({
      nick: 'mover',
      online: 2,
    });
    other.send('welcome');
    expect(await mover.next(ofType('message'))).toMatchObject({ text: 'welcome', room: 'second' });
  });

  it('returns exactly the missed messages, in order, after a reconnect', async () => {
    const stayer = await join({ room: 'catchup', nick: 'stayer' });
    const leaver = await join({ room: 'catchup', nick: 'leaver' });
    stayer.send('before');
    // Each message waits for the previous one's ack: frames in flight together may be stored in either order.
    await stayer.next(ofType('ack'));
    const seen = await leaver.next(ofType('message'));
    await leaver.close();
    for (const text of ['missed 1', 'missed 2', 'missed 3']) {
      stayer.send(text);
      await stayer.next(ofType('ack'));
    }
    const back = await join({ room: 'catchup', nick: 'leaver' });
    back.send({ type: 'join', room: 'catchup', since: seen.id });
    const history = await back.next(ofType('history'));
    expect((history.messages as Array<Record<string, unknown>>).map((m) => m.text)).toEqual([
      'missed 1',
      'missed 2',
      'missed 3',
    ]);
    expect(history.more).toBe(false);
  });

  it('delivers an HTTP publish into a room and refuses a wrong token', async () => {
    const listener = await join({ room: 'alerts', nick: 'ops' });
    const ok = await post(
      `${stack.url}publish`,
      { room: 'alerts', text: 'build #42 passed', from: 'ci' },
      PUBLISH_TOKEN,
    );
    expect(ok).toMatchObject({ status: 200, body: { delivered: 1, online: 1 } });
    expect(await listener.next(ofType('message'))).toMatchObject({
      text: 'build #42 passed',
      from: 'ci',
      source: 'api',
    });
    const wrong = await post(`${stack.url}publish`, { room: 'alerts', text: 'spoofed' }, 'not-the-token');
    expect(wrong).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const none = await post(`${stack.url}publish`, { room: 'alerts', text: 'spoofed' });
    expect(none.status).toBe(401);
    const bad = await post(`${stack.url}publish`, { room: '../etc', text: 'x' }, PUBLISH_TOKEN);
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_room' } });
    await eventually(() => listener.frames.length >= 1);
    expect(listener.frames.filter(ofType('message')).map((f) => f.text)).toEqual(['build #42 passed']);
  });

  it('answers pings with pong and refreshes last-seen', async () => {
    const pinger = await join({ room: 'pings', nick: 'p' });
    const key = stack.cos.keys(stack.bucket, 'wschat/room/pings/')[0]!;
    const registeredAt = stack.cos.lastModified(stack.bucket, key)!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    pinger.send({ type: 'ping', ref: 'hb' });
    expect(await pinger.next(ofType('pong'))).toMatchObject({ ref: 'hb' });
    expect(stack.cos.keys(stack.bucket, 'wschat/room/pings/')).toEqual([key]);
    expect(stack.cos.lastModified(stack.bucket, key)).toBeGreaterThan(registeredAt);
  });
});

describe('POST /token', () => {
  it('issues a token that register accepts, and refuses names register would refuse', async () => {
    const stack = await startLocalStack({ port: 0, env: { PUBLISH_TOKEN, AUTH_SECRET: 'auth-secret' } });
    try {
      const issued = await post(`${stack.url}token`, { nick: 'Zoë', room: 'Support' }, PUBLISH_TOKEN);
      expect(issued.status).toBe(200);
      const client = await connectClient(
        stack.wsUrl,
        connectProtocols({ token: issued.body.token as string }),
      );
      client.send({ type: 'join', room: 'support', ref: 'me' });
      expect(await client.next(ofType('ack', { for: 'join' }))).toMatchObject({
        nick: 'Zoë',
        room: 'support',
      });
      await client.close();
      expect(await post(`${stack.url}token`, { nick: '<script>' }, PUBLISH_TOKEN)).toMatchObject({
        status: 400,
        body: { error: 'invalid_nick' },
      });
      expect((await post(`${stack.url}token`, { nick: 'ok' }, 'wrong')).status).toBe(401);
    } finally {
      await stack.close();
    }
  });
});
