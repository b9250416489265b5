import {
  formatClock,
  formatError,
  formatJoined,
  formatMessage,
  formatPresence,
  formatRenamed,
  formatSeconds,
  sanitize,
} from '../../../scripts/cli/format';

// Local time, like the client prints: the expectations hold in any time zone.
const at = (h: number, m: number, s: number) => new Date(2024, 0, 2, h, m, s, 250).getTime();

describe('format', () => {
  it('prints local wall-clock time as HH:MM:SS', () => {
    expect(formatClock(at(3, 4, 5))).toBe('03:04:05');
    expect(formatClock(at(23, 59, 59))).toBe('23:59:59');
    expect(formatClock(at(0, 0, 0))).toBe('00:00:00');
  });

  it('prints a message as time, nick#tag and text', () => {
    expect(formatMessage({ from: 'bob', tag: '9c1d', text: 'hi there', ts: at(12, 0, 5) })).toBe(
      '12:00:05 bob#9c1d: hi there',
    );
  });

  it('keeps every event on one line and neutralises terminal control sequences', () => {
    const line = formatMessage({
      from: 'eve\u001b[2J',
      tag: 'abcd',
      text: 'one\ntwo\r\nthree\rfour\u0007',
      ts: at(1, 2, 3),
    });
    expect([...line].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
    expect(line).toBe('01:02:03 eve\\u{1b}[2J#abcd: one\\ntwo\\nthree\\nfour\\u{07}');
    expect(sanitize('tab\tstays, émoji 🎉 stays, bidi \u202e goes')).toBe(
      'tab\tstays, émoji 🎉 stays, bidi \\u{202e} goes',
    );
  });

  it('prints presence events', () => {
    const base = { room: 'lobby', nick: 'alice', tag: '3f2a', online: 3, ts: at(9, 30, 0) };
    expect(formatPresence({ ...base, event: 'join' })).toBe('09:30:00 * alice#3f2a joined lobby (3 online)');
    expect(formatPresence({ ...base, event: 'leave', online: 2 })).toBe(
      '09:30:00 * alice#3f2a left lobby (2 online)',
    );
    expect(formatPresence({ ...base, event: 'nick', nick: 'alicia', previous: 'alice' })).toBe(
      '09:30:00 * alice#3f2a is now alicia (3 online)',
    );
  });

  it('prints our own join and rename', () => {
    expect(formatJoined(at(8, 0, 1), { room: 'side', nick: 'carol', tag: '77aa', online: 1 })).toBe(
      '08:00:01 * joined side as carol#77aa (1 online)',
    );
    expect(formatJoined(at(8, 0, 1), { room: 'side', nick: 'carol' })).toBe(
      '08:00:01 * joined side as carol',
    );
    expect(formatJoined(at(8, 0, 1), { room: 'side' })).toBe('08:00:01 * joined side');
    expect(formatRenamed(at(8, 0, 2), { nick: 'caroline', tag: '77aa' })).toBe(
      '08:00:02 * you are now caroline#77aa',
    );
  });

  it('prints errors as "! code: message"', () => {
    expect(formatError('too_large', 'message is 5000 bytes; the limit is 4096')).toBe(
      '! too_large: message is 5000 bytes; the limit is 4096',
    );
  });

  it('prints durations with one decimal', () => {
    expect(formatSeconds(500)).toBe('0.5 s');
    expect(formatSeconds(1234)).toBe('1.2 s');
    expect(formatSeconds(15000)).toBe('15.0 s');
  });
});
