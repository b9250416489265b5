import { checkText, normalizeNick, normalizeRoom, tagOf } from '../../../code/chat/rules';
import { ProtocolError } from '../../../code/chat/protocol';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'other';
  }
};

describe('rules', () => {
  it('normalises and validates room names', () => {
    expect(normalizeRoom(' Dev-1 ')).toBe('dev-1');
    for (const bad of ['', '../x', 'a/b', '-x', 'x'.repeat(33), '__proto__', 'ro om']) {
      expect(codeOf(() => normalizeRoom(bad))).toBe('invalid_room');
    }
  });

  it('accepts nicknames in any script and refuses control or markup characters', () => {
    expect(normalizeNick('  小明   Li ', 24)).toBe('小明 Li');
    expect(codeOf(() => normalizeNick('<b>x</b>', 24))).toBe('invalid_nick');
    expect(codeOf(() => normalizeNick('a\u0000b', 24))).toBe('invalid_nick');
    expect(codeOf(() => normalizeNick('x'.repeat(25), 24))).toBe('invalid_nick');
    expect(codeOf(() => normalizeNick('   ', 24))).toBe('invalid_nick');
  });

  it('limits text by UTF-8 bytes and refuses invalid UTF-8 and control characters', () => {
    expect(checkText('好'.repeat(3), 9)).toBe('好好好');
    expect(codeOf(() => checkText('好'.repeat(4), 9))).toBe('too_large');
    expect(codeOf(() => checkText('  ', 9))).toBe('empty_message');
    expect(codeOf(() => checkText('a\uD800b', 99))).toBe('bad_frame');
    expect(codeOf(() => checkText('bell\u0007', 99))).toBe('bad_frame');
    expect(checkText('line\nnext\ttab 😀', 99)).toBe('line\nnext\ttab 😀');
  });

  it('derives a short stable tag per connection', () => {
    expect(tagOf('abc=')).toMatch(/^[0-9a-f]{4}$/);
    expect(tagOf('abc=')).toBe(tagOf('abc='));
    expect(tagOf('abc=')).not.toBe(tagOf('abd='));
  });
});
