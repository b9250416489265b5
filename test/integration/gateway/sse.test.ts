import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../../helpers/ws-client';
import { connectProtocols } from '../../../code/chat/protocol';
import { openSse, postSend, SseRefused, type SseClient, type SseEvent } from '../../helpers/sse-client';
import { signSendCredential, verifySendCredential } from '../../../code/gateway/sse-wire';

/**
 * Server-sent events on the gateway's public port: a stream is a connection like a WebSocket (register admits
 * it, pushes reach it, cleanup follows its close), and POST /events/send is a frame from it.
 */

const json = (credential: string) => ({
  'Content-Type': 'application/json',
  Authorization: `Bearer ${credential}`,
});
const isMessage = (text: string) => (e: SseEvent) => e.event === 'message' && e.json?.text === text;

describe('server-sent events', () => {
  let stack: LocalStack;
  const streams: SseClient[] = [];
  const sockets: TestClient[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, gatewayEnv: { GATEWAY_SSE_KEEPALIVE_SECONDS: '1' } });
  });
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await Promise.all(sockets.splice(0).map((c) => c.close()));
  });
  afterAll(() => stack.close());

  const sse = async (query: string, headers: Record<string, string> = {}) => {
    const client = await openSse(`${stack.url}events?${query}`, headers);
    streams.push(client);
    return client;
  };
  const ws = async (nick: string, room: string) => {
    const client = await connectClient(stack.wsUrl, connectProtocols({ nick, room }));
    sockets.push(client);
    client.send({ type: 'join', room, ref: 'j' });
    await client.next(ofType('history', { ref: 'j' }));
    return client;
  };
  const send = (credential: string, command: Record<string, unknown>) =>
    postSend(`${stack.url}events/send`, JSON.stringify(command), json(credential));
  const connectionOf = (client: SseClient) => {
    const check = verifySendCredential(stack.env.GATEWAY_SECRET!, client.credential);
    if (!check.ok) throw new Error('the stream sent no valid credential');
    return check.connectionId;
  };

  it('an EventSource-style client and a WebSocket client in one room chat both ways', async () => {
    const reader = await sse('room=both&nick=Ann');
    const first = reader.events[0]!;
    expect(first.event).toBe('credential');
    expect(first.json).toMatchObject({ v: 1, type: 'credential', send: '/events/send' });
    const bob = await ws('Bob', 'both');

    bob.send({ type: 'message', text: 'hello stream', ref: 'b1' });
    const heard = await reader.next(isMessage('hello stream'));
    expect(heard.id).toBe(heard.json?.id);
    expect(heard.json).toMatchObject({ from: 'Bob', room: 'both' });

    // JSON, the answer is the ack; without a ref the gateway adds one to match it.
    const answer = await send(reader.credential, { type: 'message', text: 'hello socket' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ type: 'ack', for: 'message', stored: true });
    expect(await bob.next(ofType('message', { text: 'hello socket' }))).toMatchObject({ from: 'Ann' });

    // Form-encoded, as the seed's /post; and the credential as a form field.
    const form = await postSend(
      `${stack.url}events/send`,
      new URLSearchParams({ credential: reader.credential, message: 'from a form' }).toString(),
      { 'Content-Type': 'application/x-www-form-urlencoded' },
    );
    expect(form.status).toBe(200);
    expect(form.json).toMatchObject({ type: 'ack', for: 'message' });
    await bob.next(ofType('message', { text: 'from a form' }));

    // The same rules as a frame: an error is the answer (and it is on the stream too).
    const refused = await send(reader.credential, { type: 'message', text: '   ', ref: 'blank' });
    expect(refused.json).toMatchObject({ type: 'error', code: 'empty_message', ref: 'blank' });
    await reader.next((e) => e.event === 'error' && e.json?.ref === 'blank');

    const pong = await send(reader.credential, { type: 'ping', ref: 'p' });
    expect(pong.json).toMatchObject({ type: 'pong', ref: 'p' });
  });

  it('joins a bare reader to its room, so the room hears it arrive and leave, and cleans up when it closes', async () => {
    const bob = await ws('Bob', 'leave');
    // curl -N …/events?room=leave&nick=Cleo: it sends nothing, and the gateway joins it, as a plain WebSocket client.
    const reader = await sse('room=leave&nick=Cleo');
    const ack = await reader.next((e) => e.event === 'ack' && e.json?.ref === 'sse-join');
    expect(ack.json).toMatchObject({ for: 'join', room: 'leave', nick: 'Cleo' });
    await reader.next((e) => e.event === 'history' && e.json?.ref === 'sse-join');
    await bob.next(ofType('presence', { event: 'join', nick: 'Cleo' }));
    const id = connectionOf(reader);
    expect(stack.gateway.connectionIds()).toContain(id);
    reader.close();
    await bob.next(ofType('presence', { event: 'leave', nick: 'Cleo' }));
    expect(stack.gateway.connectionIds()).not.toContain(id);
  });

  it('leaves the join to a stream opened with ?join=self, and refuses any other join value', async () => {
    const bob = await ws('Bob', 'self');
    // Our page and terminal client join by themselves, with their cursor.
    const page = await sse('room=self&nick=Dora&join=self');
    expect((await send(page.credential, { type: 'join', room: 'self', ref: 'mine' })).json).toMatchObject({
      type: 'ack',
      for: 'join',
      ref: 'mine',
    });
    // Frames of one connection are handled in order: a join by the gateway would have been answered first.
    expect((await page.next((e) => e.event === 'ack')).json?.ref).toBe('mine');
    await bob.next(ofType('presence', { event: 'join', nick: 'Dora' }));

    const refusal = await sse('room=self&join=yes').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SseRefused);
    expect((refusal as SseRefused).status).toBe(400);
    expect((refusal as SseRefused).body).toContain('join must be');
  });

  it('tells the room nothing when a stream that never spoke closes (the page asking why its socket failed)', async () => {
    const bob = await ws('Bob', 'probe');
    const probe = await sse('room=probe&nick=Eve&join=self');
    const id = connectionOf(probe);
    probe.close();
    await eventually(() => !stack.gateway.connectionIds().includes(id));
    // Its cleanup ran, and with it any presence line it would have sent.
    await stack.gateway.settled();
    expect(bob.frames.filter((f) => f.type === 'presence' && f.nick === 'Eve')).toEqual([]);
    // Eve was removed all the same: the room counts Bob alone.
    bob.send({ type: 'message', text: 'anyone?', ref: 'q' });
    expect(await bob.next(ofType('ack', { ref: 'q' }))).toMatchObject({ online: 1 });
  });

  it('resumes with Last-Event-ID after missing messages: every one, once', async () => {
    const bob = await ws('Bob', 'resume');
    const reader = await sse('room=resume&nick=Dana');
    bob.send({ type: 'message', text: 'seen', ref: 's' });
    await reader.next(isMessage('seen'));
    const lastSeen = reader.lastEventId!;
    reader.close();
    await reader.ended;

    const missed = ['one', 'two', 'three'];
    for (const text of missed) {
      bob.send({ type: 'message', text, ref: text });
      await bob.next(ofType('ack', { ref: text }));
    }

    const again = await sse('room=resume&nick=Dana', { 'Last-Event-ID': lastSeen });
    const history = await again.next((e) => e.event === 'history');
    const texts = (history.json!.messages as Array<{ text: string; id: string }>).map((m) => m.text);
    expect(texts).toEqual(missed);
    expect(history.id).toBe((history.json!.messages as Array<{ id: string }>).at(-1)!.id);

    // Live messages follow; nothing missed arrives twice.
    bob.send({ type: 'message', text: 'live', ref: 'l' });
    await again.next(isMessage('live'));
    const all = again.events.flatMap((e) =>
      e.event === 'history'
        ? (e.json!.messages as Array<{ text: string }>).map((m) => m.text)
        : e.event === 'message'
          ? [e.json!.text as string]
          : [],
    );
    expect(all).toEqual([...missed, 'live']);

    // Clients that cannot set headers pass it in the query.
    const byQuery = await sse(`room=resume&nick=Dana&lastEventId=${encodeURIComponent(lastSeen)}`);
    const replay = await byQuery.next((e) => e.event === 'history');
    expect((replay.json!.messages as Array<{ text: string }>).map((m) => m.text)).toEqual([
      ...missed,
      'live',
    ]);
  });

  it('refuses forged, expired and missing credentials (401), a closed stream’s (410), another node’s (421)', async () => {
    const reader = await sse('room=creds&nick=Eve');
    const id = connectionOf(reader);
    const soon = Math.floor(Date.now() / 1000) + 60;
    const forged = signSendCredential('not-the-gateway-secret-not-the-secret', id, soon);
    const expired = signSendCredential(stack.env.GATEWAY_SECRET!, id, Math.floor(Date.now() / 1000) - 1);
    const [idPart, , macPart] = reader.credential.split('.');
    const extended = `${idPart}.${soon + 3600}.${macPart}`;
    for (const credential of [forged, expired, extended, 'garbage']) {
      const answer = await send(credential, { type: 'message', text: 'should not pass' });
      expect(answer.status).toBe(401);
    }
    const none = await postSend(`${stack.url}events/send`, '{"type":"ping"}', {
      'Content-Type': 'application/json',
    });
    expect(none.status).toBe(401);
    expect(reader.events.some((e) => e.json?.text === 'should not pass')).toBe(false);

    reader.close();
    await eventually(() => !stack.gateway.connectionIds().includes(id), 5000, 'stream closed');
    expect((await send(reader.credential, { type: 'ping' })).status).toBe(410);

    // A genuine credential for a stream another node holds: this node says so instead of "gone".
    const elsewhere = signSendCredential(
      stack.env.GATEWAY_SECRET!,
      'othernode+AAAAAAAAAAAAAAAAAAAAAAAA',
      soon,
    );
    expect((await send(elsewhere, { type: 'ping' })).status).toBe(421);
  });

  it('refuses what register refuses, with the reason readable', async () => {
    const refusal = await openSse(`${stack.url}events?room=${encodeURIComponent('Bad Room!')}`).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SseRefused);
    expect((refusal as SseRefused).status).toBeGreaterThanOrEqual(400);
    expect((refusal as SseRefused).body).toContain('errMsg');
  });

  it('writes keep-alive comments', async () => {
    const reader = await sse('room=quiet&nick=Finn');
    await eventually(() => reader.comments > 0, 5000, 'a keep-alive comment');
  });

  it('ends the stream when the gateway drops the connection', async () => {
    const reader = await sse('room=drop&nick=Gus');
    stack.gateway.drop(connectionOf(reader));
    await reader.ended;
  });
});

describe('server-sent events at shutdown', () => {
  it('ends every stream with a close event (1001) when the gateway drains', async () => {
    const own = await startLocalStack({ port: 0 });
    const reader = await openSse(`${own.url}events?room=drain&nick=Hal`);
    const stopped = own.close();
    await reader.ended;
    const last = reader.events.at(-1)!;
    expect(last.event).toBe('close');
    expect(last.json).toMatchObject({ type: 'close', code: 1001 });
    await stopped;
  });
});
