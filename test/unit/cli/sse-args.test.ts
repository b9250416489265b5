import { parseArgs, UsageError } from '../../../scripts/cli/args';
import { eventsUrlOf, sseQuery } from '../../../scripts/cli/sse-link';

describe('wschat --sse', () => {
  const options = (argv: string[]) => {
    const parsed = parseArgs(argv);
    if (parsed.kind !== 'run') throw new Error('expected options');
    return parsed.options;
  };

  it('takes the WebSocket URL or the gateway’s http(s) address', () => {
    expect(options(['ws://127.0.0.1:3000/ws', '--sse'])).toMatchObject({ sse: true });
    expect(options(['--sse', 'https://chat.example.com'])).toMatchObject({
      url: 'https://chat.example.com/',
    });
    expect(options(['ws://127.0.0.1:3000/ws']).sse).toBeUndefined();
    expect(() => parseArgs(['https://chat.example.com'])).toThrow(UsageError);
  });

  it.each([
    ['ws://127.0.0.1:3000/ws', 'http://127.0.0.1:3000/events'],
    ['wss://chat.example.com/ws', 'https://chat.example.com/events'],
    ['https://chat.example.com/', 'https://chat.example.com/events'],
    ['http://127.0.0.1:3000/events', 'http://127.0.0.1:3000/events'],
  ])('reads %s from %s', (url, events) => {
    expect(eventsUrlOf(url)).toBe(events);
  });

  it('carries what the sub-protocols would, the nick in plain text', () => {
    expect(new URLSearchParams(sseQuery({ room: 'dev', nick: 'Zoë' })).get('nick')).toBe('Zoë');
    // It joins by itself, with its cursor: the gateway is told not to join for it.
    expect(sseQuery({ token: 'a.b' })).toBe('join=self&token=a.b');
  });
});
