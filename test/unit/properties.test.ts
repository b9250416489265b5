import fc from 'fast-check';
import { connectProtocols } from '../../code/chat/protocol';
import { createRegisterHandler } from '../../code/functions/register';
import { createTransportHandler } from '../../code/functions/transport';
import { createCleanupHandler } from '../../code/functions/cleanup';
import { createPublishHandler } from '../../code/functions/publish';
import type { FunctionUrlReply } from '../../code/tencent/function-url';
import { fakeContainer } from '../helpers/fake-container';

/** Random and malformed events against every handler, with in-memory ports. */

/** A plain (not function-URL) event gets the handler's own reply back, never the HTTP wrapping. */
function plainReply<R extends object>(reply: R | FunctionUrlReply): R {
  if ('statusCode' in reply && 'body' in reply) throw new Error('unexpected function-URL reply');
  return reply as R;
}

function world() {
  const { registry, push, container } = fakeContainer({ PUBLISH_TOKEN: 'tok' });
  return {
    registry,
    push,
    register: createRegisterHandler(() => container),
    transport: createTransportHandler(() => container),
    cleanup: createCleanupHandler(() => container),
    publish: createPublishHandler(() => container),
  };
}

const base64Id = fc.stringMatching(/^[A-Za-z0-9+/]{4,32}={0,2}$/);
const anyId = fc.oneof(
  base64Id,
  fc.string(),
  fc.constant('../../etc/passwd'),
  fc.constant('__proto__'),
  fc.integer(),
);
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.constant('{"__proto__":{"type":"join","room":"x"}}'),
  fc.constant('\uD800 lone surrogate'),
  fc.constant(`{"type":"message","text":"${'a'.repeat(3000)}"}`),
  fc
    .record({
      type: fc.constantFrom('message', 'nick', 'join', 'history', 'ping', 'other'),
      text: fc.anything(),
      nick: fc.anything(),
      room: fc.anything(),
      since: fc.anything(),
      limit: fc.anything(),
    })
    .map((o) => JSON.stringify(o)),
);
const frameEvent = fc.oneof(
  fc.anything(),
  fc.record(
    {
      websocket: fc.record(
        {
          action: fc.string(),
          secConnectionID: anyId,
          dataType: fc.constantFrom('text', 'binary', 'x'),
          data: fc.oneof(hostileText, fc.anything()),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  ),
);

describe('handlers under random input', () => {
  it('transport never throws, always answers 200-style, and every reply to the sender is a v1 envelope', async () => {
    await fc.assert(
      fc.asyncProperty(frameEvent, async (event) => {
        const w = world();
        await w.register({ websocket: { action: 'connecting', secConnectionID: 'sender=' } }, {});
        const reply = await w.transport(event, {});
        expect(reply).toEqual({ errNo: 0, errMsg: 'ok' });
        for (const { frame } of w.push.sent) expect(frame.v).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('register never admits an event without a valid base64 connection ID', async () => {
    const connectEvent = fc.oneof(
      fc.anything(),
      fc.record(
        {
          requestContext: fc.anything(),
          websocket: fc.record(
            {
              action: fc.string(),
              secConnectionID: anyId,
              secWebSocketProtocol: fc.oneof(fc.string(), fc.anything()),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(connectEvent, async (event) => {
        const w = world();
        const reply = plainReply(await w.register(event, {}));
        const id = (event as { websocket?: { secConnectionID?: unknown } } | null)?.websocket
          ?.secConnectionID;
        const valid = typeof id === 'string' && /^[A-Za-z0-9+/]{1,254}={0,2}$/.test(id);
        if (reply.errNo === 0) {
          expect(valid).toBe(true);
          expect(w.registry.records.has(id as string)).toBe(true);
        } else {
          expect(reply.errMsg.length).toBeGreaterThan(0);
          expect(w.registry.records.size).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('cleanup and publish never throw on garbage', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (closeEvent, httpEvent) => {
        const w = world();
        await expect(w.cleanup(closeEvent, {})).resolves.toHaveProperty('errNo');
        const response = await w.publish(httpEvent, {});
        expect([400, 401, 404, 405, 413]).toContain(response.statusCode);
      }),
      { numRuns: 200 },
    );
  });
});

describe('registry consistency', () => {
  type Step =
    | { kind: 'connect'; id: number; room: string; nick: string }
    | { kind: 'send'; id: number; data: string }
    | { kind: 'disconnect'; id: number };

  const room = fc.constantFrom('lobby', 'dev', 'ops', 'Bad Room', '../x');
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('connect' as const),
      id: fc.nat(5),
      room,
      nick: fc.constantFrom('ann', 'bo', '<x>', ''),
    }),
    fc.record({
      kind: fc.constant('send' as const),
      id: fc.nat(5),
      data: fc.oneof(
        room.map((r) => JSON.stringify({ type: 'join', room: r })),
        fc.constantFrom(
          'hello',
          '{"type":"nick","nick":"zed"}',
          '{"type":"ping"}',
          '{"type":"history"}',
          '{"type":"nick","nick":"<b>"}',
        ),
        hostileText,
      ),
    }),
    fc.record({ kind: fc.constant('disconnect' as const), id: fc.nat(5) }),
  );

  it('keeps exactly one membership per live connection, in the room of its record, after any sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const w = world();
        const live = new Set<string>();
        const idOf = (n: number) => `conn${n}=`;
        for (const s of steps) {
          const id = idOf(s.id);
          if (s.kind === 'connect' && !live.has(id)) {
            const reply = plainReply(
              await w.register(
                {
                  websocket: {
                    action: 'connecting',
                    secConnectionID: id,
                    secWebSocketProtocol: connectProtocols({ room: s.room, nick: s.nick }).join(','),
                  },
                },
                {},
              ),
            );
            if (reply.errNo === 0) live.add(id);
          } else if (s.kind === 'send' && live.has(id)) {
            await w.transport(
              { websocket: { action: 'data recv', secConnectionID: id, dataType: 'text', data: s.data } },
              {},
            );
          } else if (s.kind === 'disconnect') {
            await w.cleanup({ websocket: { action: 'closing', secConnectionID: id } }, {});
            live.delete(id);
          }
          expect([...w.registry.records.keys()].sort()).toEqual([...live].sort());
          for (const [recordId, record] of w.registry.records) {
            const rooms = [...w.registry.rooms]
              .filter(([, members]) => members.has(recordId))
              .map(([name]) => name);
            expect(rooms).toEqual([record.room]);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
