import fc from 'fast-check';
import { checkNickname, MAX_MARKS_PER_CHARACTER } from '../../../code/chat/names';
import { connectProtocols, ProtocolError } from '../../../code/chat/protocol';
import { checkText, normalizeNick } from '../../../code/chat/rules';
import { createChatService } from '../../../code/chat/chat-service';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import { silentLogger } from '../../../code/chat/log';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from '../../helpers/fakes';

/** Issue #15, finding 5: bidi controls and stacked combining marks (rules in docs/protocol.md, "Text rules"). */

const BIDI_CONTROLS = [
  '\u061C', // ALM
  '\u200E', // LRM
  '\u200F', // RLM
  '\u202A', // LRE
  '\u202B', // RLE
  '\u202C', // PDF
  '\u202D', // LRO
  '\u202E', // RLO
  '\u2066', // LRI
  '\u2067', // RLI
  '\u2068', // FSI
  '\u2069', // PDI
];
const ACUTE = '\u0301';

function outcome(fn: () => string): string {
  try {
    return `ok:${fn()}`;
  } catch (error) {
    if (error instanceof ProtocolError) return `${error.code}:${error.message}`;
    throw error;
  }
}

const text = (value: string) => outcome(() => checkText(value, 4096));

/** An independent statement of "balanced": removing innermost closed isolates repeatedly leaves none. */
function balancedByRemoval(value: string): boolean {
  let rest = value;
  for (;;) {
    const next = rest.replace(/[\u2066-\u2068][^\u2066-\u2069\n\u2029]*\u2069/gu, '');
    if (next === rest) break;
    rest = next;
  }
  return !/[\u2066-\u2069]/.test(rest);
}

describe('nicknames', () => {
  it.each(BIDI_CONTROLS.map((c) => [c.codePointAt(0)!.toString(16).toUpperCase(), c]))(
    'refuses the bidi control U+%s anywhere',
    (_name, control) => {
      for (const nick of [`${control}alice`, `ali${control}ce`, `alice${control}`]) {
        expect(checkNickname(nick, 24).ok).toBe(false);
      }
    },
  );

  it('regression: refuses a letter with more than four combining marks, and marks with no letter', () => {
    expect(checkNickname(`a${ACUTE.repeat(20)}`, 24).ok).toBe(false);
    // After NFC: a base without a precomposed form keeps all its marks.
    expect(checkNickname(`zalgx${'\u0300\u0301\u0302\u0303\u0304'}`, 24).ok).toBe(false);
    expect(checkNickname(`${ACUTE}bob`, 24).ok).toBe(false);
    expect(checkNickname(`bob ${ACUTE}`, 24).ok).toBe(false);
    expect(checkNickname(`bob_${ACUTE}`, 24).ok).toBe(false);
  });

  it('keeps accents, vowel signs and tone marks of real names', () => {
    for (const nick of [
      'José',
      'Zoë',
      'Nguyễn Văn A',
      'กิ่ง',
      'देवनागरी',
      'क़ीं',
      'سارا',
      'שָׁלוֹם',
      'བསྒྲུབས',
      '小明',
    ]) {
      expect(checkNickname(nick, 24)).toEqual({ ok: true, value: nick.normalize('NFC') });
    }
    // Decomposed input is composed first, so "e" + U+0301 counts as one letter with no mark.
    expect(checkNickname(`Jose${ACUTE}`, 24)).toEqual({ ok: true, value: 'José' });
    expect(checkNickname(`x${'\u0300\u0316\u0317\u0318'}`, 24).ok).toBe(true);
  });

  it('property: an accepted nickname has no bidi control, no bare mark, no stack, and is stable', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 3 }),
      fc.constantFrom(...BIDI_CONTROLS, ACUTE, '\u0300', '\u0E48', '\u093C', ' ', '_', 'a', 'é', 'ب'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const check = checkNickname(pieces.join(''), 24);
        if (!check.ok) return;
        const value = check.value;
        expect(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/.test(value)).toBe(false);
        expect(/^\p{M}|[^\p{L}\p{N}\p{M}]\p{M}/u.test(value)).toBe(false);
        const longest = Math.max(0, ...(value.match(/\p{M}+/gu) ?? []).map((run) => Array.from(run).length));
        expect(longest).toBeLessThanOrEqual(MAX_MARKS_PER_CHARACTER);
        expect(checkNickname(value, 24)).toEqual(check);
      }),
      { numRuns: 3000 },
    );
  });

  it('the server refuses them with invalid_nick', () => {
    expect(outcome(() => normalizeNick('\u202Eevil', 24))).toMatch(/^invalid_nick:/);
    expect(outcome(() => normalizeNick(`x${ACUTE.repeat(5)}`, 24))).toMatch(/^invalid_nick:/);
  });
});

describe('message text', () => {
  it.each([
    ['LRE', '\u202A'],
    ['RLE', '\u202B'],
    ['PDF', '\u202C'],
    ['LRO', '\u202D'],
    ['RLO', '\u202E'],
  ])('regression: refuses %s, even when closed', (_name, control) => {
    expect(text(`see ${control}fdp.exe\u202C now`)).toBe(
      'bad_frame:message contains bidi embedding or override characters',
    );
  });

  it('accepts isolates closed on their line, and refuses open or stray ones', () => {
    expect(text('user \u2067שלום\u2069 joined')).toBe('ok:user \u2067שלום\u2069 joined');
    expect(text('\u2066a \u2068b\u2069 c\u2069\nnext')).toMatch(/^ok:/);
    const refused = 'bad_frame:message contains a bidi isolate that is not closed on its line';
    expect(text('open \u2067forever')).toBe(refused);
    expect(text('stray\u2069 close')).toBe(refused);
    expect(text('\u2067across\nlines\u2069')).toBe(refused);
    expect(text('\u2067across\u2029paragraphs\u2069')).toBe(refused);
  });

  it('accepts the invisible direction marks LRM, RLM and ALM, which reorder nothing', () => {
    expect(text('price: 100\u200F$')).toMatch(/^ok:/);
    expect(text('a\u200Eb\u061Cc')).toMatch(/^ok:/);
  });

  it('property: text is accepted exactly when it has no embedding or override and its isolates balance', () => {
    const piece = fc.oneof(
      fc
        .string({ unit: 'grapheme', maxLength: 4 })
        // eslint-disable-next-line no-control-regex -- control characters have their own rule; keep them out
        .filter((s) => !/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(s)),
      fc.constantFrom(...BIDI_CONTROLS, '\n', '\u2029', 'a', 'ש', ' '),
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 16 }), (pieces) => {
        const value = `x${pieces.join('')}`;
        fc.pre(!/[\uD800-\uDFFF]/.test(value));
        const expected = !/[\u202A-\u202E]/.test(value) && balancedByRemoval(value);
        expect(text(value).startsWith('ok:')).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the callers apply the rules', () => {
  function service() {
    const push = new RecordingPush();
    const history = new MemoryHistory();
    const chat = createChatService({
      registry: new MemoryRegistry(),
      history,
      push,
      rateLimiter: createRateLimiter(1000, 1000),
      settings: { limits: TEST_LIMITS, defaultRoom: 'lobby', pushConcurrency: 4, broadcastBudgetMs: 5000 },
      log: silentLogger,
    });
    return { chat, push, history };
  }

  it('a message with an override is answered bad_frame, and neither stored nor delivered', async () => {
    const { chat, push, history } = service();
    await chat.connect({ connectionId: 'a=', protocols: connectProtocols({ nick: 'alice' }) });
    await chat.connect({ connectionId: 'b=', protocols: connectProtocols({ nick: 'bob' }) });
    push.clear();
    const send = (data: string) => chat.receive({ connectionId: 'a=', frameType: 'text', data });
    await send(JSON.stringify({ type: 'message', text: 'open \u202Efdp.exe', ref: 'm1' }));
    await send('plain text with \u2067an open isolate');
    await send(JSON.stringify({ type: 'nick', nick: `x${'\u0316'.repeat(5)}`, ref: 'n1' }));
    expect(push.to('a=').map((f) => [f.type, f.code, f.ref])).toEqual([
      ['error', 'bad_frame', 'm1'],
      ['error', 'bad_frame', undefined],
      ['error', 'invalid_nick', 'n1'],
    ]);
    expect(push.to('b=')).toEqual([]);
    expect((await history.recent('lobby', { limit: 10 })).messages).toEqual([]);
  });

  it('the publish API refuses them too', async () => {
    const { chat } = service();
    await expect(chat.publish({ room: 'lobby', text: '\u202Dreversed' })).rejects.toMatchObject({
      code: 'bad_frame',
    });
    await expect(chat.publish({ room: 'lobby', text: 'hi', from: '\u202Eadmin' })).rejects.toMatchObject({
      code: 'invalid_nick',
    });
  });
});
