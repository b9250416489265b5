import http from 'http';
import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectClient, eventually, ofType, type TestClient } from '../helpers/ws-client';
import { connectProtocols, newIdentityKey } from '../../code/chat/protocol';
import { DEFAULT_CLIENT_LIMITS } from '../helpers/client-limits';

/**
 * Issue 16 on the local stack with real `ws` clients: plain-text chat for clients that do not speak wschat.v1,
 * stable tags from an identity key, the members list, and typing notices.
 */

/** A client that offers no sub-protocol, as wscat or Python's websockets do: it keeps every text frame. */
interface PlainClient {
  socket: WebSocket;
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

async function connectPlain(url: string, protocols: string[] = []): Promise<PlainClient> {
  const socket = new WebSocket(url, protocols);
  const lines: string[] = [];
  socket.on('message', (data, isBinary) => lines.push(isBinary ? '<binary>' : data.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    lines,
    async waitFor(pattern, timeoutMs = 5000) {
      let found: string | undefined;
      await eventually(
        () => (found = lines.find((line) => pattern.test(line))) !== undefined,
        timeoutMs,
        `a line matching ${pattern} (got ${JSON.stringify(lines)})`,
      );
      return found!;
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

describe('plain-text clients, identity tags, members and typing on the local stack', () => {
  let stack: LocalStack;
  const clients: Array<{ close(): Promise<void> }> = [];
  const join = async (options: { room?: string; nick?: string; key?: string }): Promise<TestClient> => {
    const client = await connectClient(stack.wsUrl, connectProtocols(options));
    clients.push(client);
    return client;
  };
  const plain = async (protocols?: string[]) => {
    const client = await connectPlain(stack.wsUrl, protocols);
    clients.push(client);
    return client;
  };
  /** Joins, waits for the join's ack, and says who the server says we are. */
  const identify = async (options: { room: string; nick: string; key?: string }) => {
    const client = await join(options);
    client.send({ type: 'join', room: options.room, ref: 'j' });
    const ack = await client.next(ofType('ack', { for: 'join' }));
    return { client, tag: ack.tag as string };
  };

  beforeAll(async () => {
    stack = await startLocalStack({ port: 0 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stack.gateway.settled();
  });
  afterAll(() => stack.close());

  describe('a client without wschat.v1', () => {
    it('gets the room’s history as text on connect, then messages and presence as lines, never JSON or acks', async () => {
      const alice = await join({ nick: 'alice' });
      alice.send('said before the plain client came');
      await alice.next(ofType('ack'));
      const reader = await plain();
      expect(await reader.waitFor(/^alice: said before/)).toBe('alice: said before the plain client came');
      // The gateway joined it on its behalf: the room hears it arrive, as it will hear it leave.
      const arrived = await alice.next(ofType('presence', { event: 'join' }));
      expect(arrived.nick).toMatch(/^guest-[0-9a-f]{4}$/);
      alice.send('hi');
      expect(await reader.waitFor(/^alice: hi$/)).toBe('alice: hi');
      // A protocol client's arrival is announced on its first join (docs/protocol.md, "Rooms of any size").
      await identify({ room: 'lobby', nick: 'bob' });
      expect(await reader.waitFor(/^\* bob joined/)).toMatch(/^\* bob joined \(\d+ online\)$/);

      // It talks too: its text reaches protocol clients as a message, and it is sent no ack.
      reader.socket.send('hello from plain');
      const heard = await alice.next(ofType('message', { text: 'hello from plain' }));
      expect(heard.from).toMatch(/^guest-[0-9a-f]{4}$/);
      await stack.gateway.settled();
      expect(reader.lines.some((line) => line.trim().startsWith('{'))).toBe(false);
      expect(reader.lines.some((line) => /ack|"v":1/.test(line))).toBe(false);

      await reader.close();
      expect(await alice.next(ofType('presence', { event: 'leave' }))).toMatchObject({ nick: arrived.nick });
    });

    it('reads errors as text and answers a JSON history command with text', async () => {
      const reader = await plain(['some-other-protocol']);
      expect(reader.socket.protocol).toBe('some-other-protocol');
      reader.socket.send('x'.repeat(5000));
      expect(await reader.waitFor(/^! too_large:/)).toBe(
        '! too_large: message is 5000 bytes; the limit is 4096',
      );
      reader.socket.send('{"type":"nope"}');
      expect(await reader.waitFor(/^! unknown_command:/)).toMatch(/unknown command "nope"/);
      const alice = await join({ nick: 'alice' });
      alice.send('for the record');
      await alice.next(ofType('ack'));
      const before = reader.lines.length;
      reader.socket.send('{"type":"history","limit":1}');
      await eventually(
        () => reader.lines.slice(before).includes('alice: for the record'),
        5000,
        'history line',
      );
    });

    it('leaves protocol clients unchanged: acks and envelopes as JSON', async () => {
      const speaker = await join({ nick: 'speaker' });
      speaker.send('json please');
      expect(await speaker.next(ofType('ack', { for: 'message' }))).toMatchObject({ v: 1, stored: true });
    });
  });

  describe('identity tags', () => {
    it('keeps a person’s tag across reconnects with the same key, and gives another key another tag', async () => {
      const key = newIdentityKey();
      const first = await identify({ room: 'tags', nick: 'keeper', key });
      await first.client.close();
      const again = await identify({ room: 'tags', nick: 'keeper', key });
      expect(again.tag).toBe(first.tag);

      // The tag travels with messages and presence, and a message in history keeps it.
      const other = await identify({ room: 'tags', nick: 'keeper', key: newIdentityKey() });
      expect(other.tag).not.toBe(first.tag);
      again.client.send('mine');
      expect(await other.client.next(ofType('message', { text: 'mine' }))).toMatchObject({ tag: first.tag });

      // Without a key every connection gets a tag of its own, as before.
      const keyless1 = await identify({ room: 'tags', nick: 'nokey' });
      await keyless1.client.close();
      const keyless2 = await identify({ room: 'tags', nick: 'nokey' });
      expect(keyless2.tag).not.toBe(keyless1.tag);
    });

    it('gives keys that differ from the owner’s in one character tags other than the owner’s', async () => {
      const key = newIdentityKey();
      const owner = await identify({ room: 'tags2', nick: 'owner', key });
      const variants = ['A', 'B', 'C'].map((c) => c + key.slice(1)).filter((k) => k !== key);
      for (const variant of variants) {
        const imitator = await identify({ room: 'tags2', nick: 'owner', key: variant });
        expect(imitator.tag).not.toBe(owner.tag);
        await imitator.client.close();
      }
    });

    it('refuses a malformed key at the handshake, with the reason', async () => {
      const socket = new WebSocket(stack.wsUrl, connectProtocols({ nick: 'x', key: 'short' }));
      const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        socket.once('open', () => reject(new Error('admitted')));
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      socket.on('error', () => undefined);
      expect(refusal.status).toBeGreaterThanOrEqual(400);
      expect(refusal.status).toBeLessThan(500);
      expect(refusal.body).toContain('identity key must be 22 to 128 base64url characters');
    });
  });

  describe('members', () => {
    it('lists the room a page at a time, each member once, with nick and tag', async () => {
      const people = await Promise.all(
        ['m1', 'm2', 'm3', 'm4', 'm5'].map((nick) =>
          identify({ room: 'members', nick, key: newIdentityKey() }),
        ),
      );
      await join({ room: 'elsewhere', nick: 'outsider' });
      const asker = people[0]!.client;
      const seen: Array<{ nick: string; tag: string }> = [];
      let after: string | undefined;
      let pages = 0;
      do {
        asker.send({ type: 'members', limit: 2, ref: `p${pages}`, ...(after ? { after } : {}) });
        const page = await asker.next(ofType('members', { ref: `p${pages}` }));
        expect(page.room).toBe('members');
        const members = page.members as Array<{ nick: string; tag: string }>;
        expect(members.length).toBeLessThanOrEqual(2);
        seen.push(...members);
        after = page.next as string | undefined;
        // The cursor is sealed: it does not show anyone's connection ID.
        const ids = stack.gateway.connectionIds().map(encodeURIComponent);
        if (after !== undefined) expect(ids.some((id) => after!.includes(id.slice(0, 12)))).toBe(false);
        pages += 1;
      } while (after !== undefined);
      expect(pages).toBe(3);
      const expected = people.map((p, i) => ({ nick: `m${i + 1}`, tag: p.tag }));
      expect([...seen].sort((a, b) => a.nick.localeCompare(b.nick))).toEqual(expected);
      asker.send({ type: 'members', after: 'not-a-cursor-we-made-at-all-no', ref: 'forged' });
      expect(await asker.next(ofType('error', { ref: 'forged' }))).toMatchObject({ code: 'invalid_cursor' });
    });

    it('is rate-limited per connection: a burst of pages, then rate_limited', async () => {
      const asker = await join({ room: 'members-rate', nick: 'asker' });
      for (let i = 0; i < 5; i += 1) {
        asker.send({ type: 'members', ref: `ok${i}` });
        expect(await asker.next(ofType('members', { ref: `ok${i}` }))).toMatchObject({
          members: [expect.objectContaining({ nick: 'asker' })],
        });
      }
      asker.send({ type: 'members', ref: 'sixth' });
      expect(await asker.next(ofType('error', { ref: 'sixth' }))).toMatchObject({ code: 'rate_limited' });
    });
  });

  describe('typing', () => {
    it('tells the rest of the room, not the typist, at most once per interval', async () => {
      const typist = await identify({ room: 'typing', nick: 'typist', key: newIdentityKey() });
      const watcher = await join({ room: 'typing', nick: 'watcher' });
      typist.client.send({ type: 'typing' });
      typist.client.send({ type: 'typing' });
      expect(await watcher.next(ofType('typing'))).toMatchObject({
        room: 'typing',
        nick: 'typist',
        tag: typist.tag,
      });
      // Both frames were handled; the second fell inside the interval and was dropped.
      await stack.gateway.settled();
      expect(watcher.frames.filter(ofType('typing'))).toHaveLength(1);
      expect(typist.client.frames.filter(ofType('typing'))).toHaveLength(0);
      expect(typist.client.frames.filter(ofType('error'))).toHaveLength(0);
    });
  });

  describe('config.json', () => {
    const getJson = (url: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        http
          .get(url, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => {
              try {
                resolve(JSON.parse(body) as Record<string, unknown>);
              } catch (error) {
                reject(error);
              }
            });
          })
          .on('error', reject);
      });

    it('serves the limits the functions enforce', async () => {
      expect((await getJson(new URL('config.json', stack.url).toString())).limits).toEqual(
        DEFAULT_CLIENT_LIMITS,
      );
    });

    it('serves configured limits, and the server refuses exactly past the served message size', async () => {
      const small = await startLocalStack({
        port: 0,
        env: { MAX_MESSAGE_BYTES: '100', MAX_NICK_LENGTH: '10', RATE_LIMIT_PER_SECOND: '7' },
      });
      try {
        const limits = (await getJson(new URL('config.json', small.url).toString())).limits as Record<
          string,
          number
        >;
        expect(limits).toMatchObject({ maxMessageBytes: 100, maxNickLength: 10, messagesPerSecond: 7 });
        const client = await connectClient(small.wsUrl, connectProtocols({ nick: 'sizer' }));
        client.send({ type: 'message', text: 'x'.repeat(limits.maxMessageBytes!), ref: 'fits' });
        expect(await client.next(ofType('ack', { ref: 'fits' }))).toMatchObject({ stored: true });
        client.send({ type: 'message', text: 'x'.repeat(limits.maxMessageBytes! + 1), ref: 'over' });
        expect(await client.next(ofType('error', { ref: 'over' }))).toMatchObject({ code: 'too_large' });
        await client.close();
      } finally {
        await small.close();
      }
    });
  });
});
