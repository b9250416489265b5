import { parseInputLine } from '../../../scripts/cli/input';

describe('parseInputLine', () => {
  it.each([
    ['hello', { kind: 'message', text: 'hello' }],
    ['  spaced  ', { kind: 'message', text: '  spaced  ' }],
    ['windows line\r', { kind: 'message', text: 'windows line' }],
    ['//not a command', { kind: 'message', text: '/not a command' }],
    ['', { kind: 'empty' }],
    ['   ', { kind: 'empty' }],
    ['/nick  Alice Smith ', { kind: 'nick', nick: 'Alice Smith' }],
    ['/join side', { kind: 'join', room: 'side' }],
    ['/JOIN side', { kind: 'join', room: 'side' }],
    ['/history', { kind: 'history' }],
    ['/history 5', { kind: 'history', limit: 5 }],
    ['/older', { kind: 'older' }],
    ['/unread', { kind: 'unread' }],
    ['/quit', { kind: 'quit' }],
    ['/exit', { kind: 'quit' }],
    ['/help', { kind: 'help' }],
  ])('reads %j', (line, expected) => {
    expect(parseInputLine(line)).toEqual(expected);
  });

  it.each([
    ['/nick', /usage: \/nick NAME/],
    ['/join', /usage: \/join ROOM/],
    ['/join two words', /usage: \/join ROOM/],
    ['/history lots', /usage: \/history/],
    ['/history 0', /usage: \/history/],
    ['/older 5', /usage: \/older/],
    ['/unread dev', /usage: \/unread/],
    ['/dance', /unknown command \/dance/],
  ])('explains what is wrong with %j', (line, reason) => {
    const parsed = parseInputLine(line);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(reason);
  });
});
