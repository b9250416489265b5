import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { openSse, postSend } from '../helpers/sse-client';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';

/**
 * The `unread` command on every path a client has, on the local stack in both shapes (our gateway with the SCF
 * handlers, and API Gateway's events with the Lambda handlers): a protocol WebSocket, a plain WebSocket (a line),
 * and server-sent events (the POST's answer). Real COS (the local server), real gateway.
 */

describe.each(['tencent', 'aws'] as const)('unread on the %s local stack', (platform) => {
  let stack: LocalStack;
  const sockets: TestClient[] = [];
  let lastId = '';

  beforeAll(async () => {
    stack = await startLocalStack({ platform, port: 0, env: { HANDSHAKE_GRACE_MS: '0' } });
    const poster = await join('poster', 'ops');
    for (const text of ['one', 'two', 'three']) {
      poster.send({ type: 'message', text, ref: text });
      lastId = String((await poster.next(ofType('ack', { ref: text }))).id);
    }
  });
  afterAll(async () => {
    await Promise.all(sockets.splice(0).map((c) => c.close()));
    await stack.close();
  });

  async function join(nick: string, room: string): Promise<TestClient> {
    const client = await connectClient(stack.wsUrl, connectProtocols({ nick, room }));
    sockets.push(client);
    client.send({ type: 'join', room, ref: 'j' });
    await client.next(ofType('history', { ref: 'j' }));
    return client;
  }

  it('answers a protocol client with a count per room', async () => {
    const asker = await join('asker', 'lobby');
    asker.send({ type: 'unread', rooms: { ops: null, OPS: lastId, quiet: null }, ref: 'u' });
    expect(await asker.next(ofType('unread', { ref: 'u' }))).toEqual({
      v: 1,
      type: 'unread',
      ref: 'u',
      rooms: { ops: 0, quiet: 0 },
    });
    asker.send({ type: 'unread', rooms: { ops: null }, ref: 'all' });
    expect(await asker.next(ofType('unread', { ref: 'all' }))).toMatchObject({ rooms: { ops: 3 } });
    asker.send({ type: 'unread', rooms: { ops: 'x!' }, ref: 'bad' });
    expect(await asker.next(ofType('error', { ref: 'bad' }))).toMatchObject({ code: 'invalid_cursor' });
  });

  it('gives a plain client a line', async () => {
    const socket = new WebSocket(stack.wsUrl);
    const lines: string[] = [];
    socket.on('message', (data) => lines.push(data.toString()));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      socket.send(JSON.stringify({ type: 'unread', rooms: { ops: null } }));
      await eventually(() => lines.includes('* unread: ops 3'), 5000, `the unread line (got ${lines})`);
    } finally {
      socket.close();
    }
  });

  it('answers an SSE client’s POST with the envelope', async () => {
    const stream = await openSse(`${stack.url}events?room=lobby&nick=reader`);
    try {
      const answer = await postSend(
        `${stack.url}events/send`,
        JSON.stringify({ type: 'unread', rooms: { ops: null }, ref: 's' }),
        { 'Content-Type': 'application/json', Authorization: `Bearer ${stream.credential}` },
      );
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ type: 'unread', ref: 's', rooms: { ops: 3 } });
    } finally {
      stream.close();
    }
  });
});
