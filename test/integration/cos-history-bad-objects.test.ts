import fc from 'fast-check';
import { createCosHistory } from '../../code/history/cos-history';
import { createChatService } from '../../code/chat/chat-service';
import { createLogger, type Logger } from '../../code/chat/log';
import { createRateLimiter } from '../../code/chat/rate-limiter';
import { connectProtocols, type ChatMessage } from '../../code/chat/protocol';
import { createCosRegistry } from '../../code/registry/cos-registry';
import { RecordingPush, TEST_LIMITS } from '../helpers/fakes';
import { recentMessage, useLocalCosStore } from '../helpers/local-cos';

/**
 * Issue #15, finding 3: an object under a room's history prefix that is not a message (not JSON, the wrong
 * shape, or not the message its key names) is skipped and reported by key and reason, never by body. The real
 * SDK against the local COS server.
 */

const RETENTION = { limit: 100, maxAgeMs: 86_400_000 };
const REASONS = ['not JSON', 'not a message object', 'does not match its key'];

function sink(): { log: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger((line) => {
    raw.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { log, lines, raw };
}

/** A key in the room's history prefix, newer than every real message (so it is on the first page). */
function intruderKey(room: string, now: number, id = 'zzzz'): string {
  return `hist/${room}/${String(9_999_999_999_999 - (now + 10_000)).padStart(13, '0')}-${id}`;
}

const cos = useLocalCosStore();

describe('history with an unreadable object in the room', () => {
  it('regression: recent() skips a non-JSON object and logs its key and reason, not its body', async () => {
    const { log, lines, raw } = sink();
    const now = Date.now();
    const history = createCosHistory(cos.store, RETENTION, Date.now, log);
    for (let i = 0; i < 3; i += 1) await history.append(recentMessage('poisoned', i, now));
    const body = 'SECRET-BODY <not json>';
    const key = intruderKey('poisoned', now);
    await cos.store.put(key, body);

    const page = await history.recent('poisoned', { limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(['m0', 'm1', 'm2']);
    expect(lines).toEqual([{ level: 'warn', event: 'history_object_skipped', key, reason: 'not JSON' }]);
    expect(raw.join('\n')).not.toContain('SECRET-BODY');
    // Catching up past the bad object works too.
    const since = await history.recent('poisoned', { since: page.messages[0]!.id, limit: 10 });
    expect(since.messages.map((m) => m.text)).toEqual(['m1', 'm2']);
  });

  it('regression: join and history in that room answer with the good messages, not `internal`', async () => {
    const { log, raw } = sink();
    const now = Date.now();
    const push = new RecordingPush();
    const history = createCosHistory(cos.store, RETENTION, Date.now, log);
    const chat = createChatService({
      registry: createCosRegistry(cos.store),
      history,
      push,
      rateLimiter: createRateLimiter(1000, 1000),
      settings: { limits: TEST_LIMITS, defaultRoom: 'lobby', pushConcurrency: 4, broadcastBudgetMs: 5000 },
      log,
    });
    await history.append(recentMessage('room-b', 0, now));
    await cos.store.put(intruderKey('room-b', now), '{"half": ');
    await chat.connect({ connectionId: 'a=', protocols: connectProtocols({ nick: 'alice' }) });
    const send = (data: string) => chat.receive({ connectionId: 'a=', frameType: 'text', data });
    await send(JSON.stringify({ type: 'join', room: 'room-b', ref: 'j' }));
    await send(JSON.stringify({ type: 'history', ref: 'h' }));
    const replies = push.to('a=');
    expect(replies.filter((f) => f.type === 'error')).toEqual([]);
    const histories = replies.filter((f) => f.type === 'history');
    expect(histories.map((f) => f.ref)).toEqual(['j', 'h']);
    for (const h of histories) expect((h.messages as ChatMessage[]).map((m) => m.text)).toEqual(['m0']);
    expect(raw.join('\n')).not.toContain('"half"');
  });

  it('fuzz: any body under the prefix is either a message or skipped with a fixed reason', async () => {
    const now = Date.now();
    const good = recentMessage('fuzz', 0, now);
    const keyId = 'zzzz';
    const body = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.json(),
      fc.anything().map((v) => JSON.stringify(v) ?? 'undefined'),
      // Near misses: a message whose fields are replaced by anything.
      fc
        .record(
          {
            id: fc.oneof(fc.constant(keyId), fc.anything()),
            room: fc.oneof(fc.constant('fuzz'), fc.anything()),
            from: fc.anything(),
            tag: fc.anything(),
            text: fc.anything(),
            ts: fc.oneof(fc.double(), fc.anything()),
            source: fc.anything(),
            extra: fc.anything(),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      // Well-formed messages, with or without `source: "api"`.
      fc.record({ text: fc.string(), api: fc.boolean() }).map(({ text, api }) =>
        JSON.stringify({
          id: keyId,
          room: 'fuzz',
          from: 'x',
          tag: 't',
          text,
          ts: 1,
          ...(api ? { source: 'api' } : {}),
        }),
      ),
    );
    const key = intruderKey('fuzz', now, keyId);
    const { log, lines, raw } = sink();
    const history = createCosHistory(cos.store, RETENTION, Date.now, log);
    await history.append(good);
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        lines.length = 0;
        raw.length = 0;
        await cos.store.put(key, text);
        const page = await history.recent('fuzz', { limit: 10 });
        // The real message is always there; the intruder is there only as a well-formed message.
        expect(page.messages[0]).toEqual(good);
        expect(page.messages.length === 2 || lines.length === 1).toBe(true);
        for (const m of page.messages) {
          expect(Object.keys(m).sort()).toEqual(
            m.source === undefined
              ? ['from', 'id', 'room', 'tag', 'text', 'ts']
              : ['from', 'id', 'room', 'source', 'tag', 'text', 'ts'],
          );
        }
        for (const line of lines) {
          expect(Object.keys(line).sort()).toEqual(['event', 'key', 'level', 'reason']);
          expect(line).toMatchObject({ event: 'history_object_skipped', key });
          expect(REASONS).toContain(line.reason);
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
