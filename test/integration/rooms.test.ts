import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';

/**
 * Rooms at any size, end to end on the local stack: a handshake neither reads nor tells the room, the room hears
 * of an arrival at its first join, and the online count stays right through joins, leaves and drops.
 */
describe('rooms on the local stack', () => {
  let stack: LocalStack;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => stack.close());

  /** Connects; resolves with the client and its connection ID (the one the gateway added). */
  async function connect(room: string, nick: string): Promise<{ client: TestClient; id: string }> {
    const before = new Set(stack.gateway.connectionIds());
    const client = await connectClient(stack.wsUrl, connectProtocols({ room, nick }));
    clients.push(client);
    const id = stack.gateway.connectionIds().find((c) => !before.has(c));
    if (id === undefined) throw new Error('no new connection at the gateway');
    return { client, id };
  }

  /** What our clients do: connect, then join the room they connected to. */
  async function arrive(room: string, nick: string) {
    const joined = await connect(room, nick);
    joined.client.send({ type: 'join', room, ref: 'arrive' });
    await joined.client.next(ofType('ack', { for: 'join' }));
    return joined;
  }

  it('admits a client without listing or telling its room; the room hears of it at its first join', async () => {
    const a = await arrive('hall', 'anna');
    const b = await arrive('hall', 'ben');
    await a.client.next(ofType('presence', { event: 'join', nick: 'ben' }));
    await stack.gateway.settled();
    stack.cos.resetStats();
    stack.gateway.resetPushStats();
    const framesBefore = a.client.frames.length + b.client.frames.length;
    const c = await connect('hall', 'cleo');
    await stack.gateway.settled();
    // The handshake wrote the connection (record, membership, log entry) and did nothing else.
    expect(stack.cos.stats()).toMatchObject({ list: 0, get: 0, put: 3 });
    expect(stack.gateway.pushStats().requests).toBe(0);
    expect(a.client.frames.length + b.client.frames.length).toBe(framesBefore);
    c.client.send({ type: 'join', room: 'hall', ref: 'j' });
    expect(await c.client.next(ofType('ack', { for: 'join' }))).toMatchObject({ online: 3 });
    expect(await a.client.next(ofType('presence', { event: 'join' }))).toMatchObject({
      nick: 'cleo',
      online: 3,
    });
    expect(await b.client.next(ofType('presence', { event: 'join' }))).toMatchObject({
      nick: 'cleo',
      online: 3,
    });
    await stack.gateway.settled();
    // The join: one presence push to each of the two already there; cleo's ack and page came in transport's answer.
    expect(stack.gateway.pushStats()).toMatchObject({ requests: 2, replies: 2 });
  });

  it('keeps the online count right through joins, leaves and drops, without listing the room', async () => {
    const people = [];
    for (const nick of ['p1', 'p2', 'p3', 'p4']) people.push(await arrive('count', nick));
    const [p1, p2, p3, p4] = people as [
      (typeof people)[0],
      (typeof people)[0],
      (typeof people)[0],
      (typeof people)[0],
    ];
    p1.client.send('four of us');
    expect(await p1.client.next(ofType('ack', { for: 'message' }))).toMatchObject({
      delivered: 3,
      online: 4,
    });
    // A client that closes.
    await p4.client.close();
    expect(await p1.client.next(ofType('presence', { event: 'leave' }))).toMatchObject({
      nick: 'p4',
      online: 3,
    });
    // A client whose network drops: the gateway cleans up after it.
    expect(stack.gateway.drop(p3.id)).toBe(true);
    expect(await p1.client.next(ofType('presence', { event: 'leave' }))).toMatchObject({
      nick: 'p3',
      online: 2,
    });
    await stack.gateway.settled();
    stack.cos.resetStats();
    p2.client.send('two of us');
    expect(await p2.client.next(ofType('ack', { for: 'message' }))).toMatchObject({
      delivered: 1,
      failed: 0,
      online: 2,
    });
    expect(await p1.client.next(ofType('message'))).toMatchObject({ text: 'two of us', online: 2 });
    // A warm container's message: one listing of the room log, not of the room.
    await eventually(() => stack.cos.stats().put >= 1, 3000, 'history written');
    expect(stack.cos.stats().list).toBe(1);
    const again = await arrive('count', 'p5');
    expect(again.client.frames.find((f) => f.type === 'ack')).toMatchObject({ online: 3 });
  });
});
