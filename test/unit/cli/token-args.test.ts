import { UsageError } from '../../../scripts/cli/args';
import { parseTokenArgs } from '../../../scripts/cli/token-args';

const env = { AUTH_SECRET: 'secret' };

function usageError(argv: string[], environment: Record<string, string> = env): string {
  try {
    parseTokenArgs(argv, environment);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('parseTokenArgs', () => {
  it('reads nick, room and ttl with the secret from the environment', () => {
    expect(parseTokenArgs(['--nick', 'alice', '--room', 'Lobby', '--ttl=60'], env)).toEqual({
      kind: 'issue',
      options: { nick: 'alice', room: 'lobby', ttlSeconds: 60 },
      secret: 'secret',
    });
  });

  it('defaults the room to DEFAULT_ROOM, else lobby, and the ttl to an hour', () => {
    expect(parseTokenArgs(['--nick', 'bob'], env)).toMatchObject({
      options: { room: 'lobby', ttlSeconds: 3600 },
    });
    expect(parseTokenArgs(['--nick', 'bob'], { ...env, DEFAULT_ROOM: 'hall' })).toMatchObject({
      options: { room: 'hall' },
    });
  });

  it('answers --help even without a secret', () => {
    expect(parseTokenArgs(['--help'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [['--room', 'lobby'], /--nick is required/],
    [['--nick'], /--nick needs a value/],
    [['--nick', 'a', 'extra'], /unexpected argument "extra"/],
    [['--nick', 'a', '--admin'], /unknown option --admin/],
    [['--nick', 'bad<nick>'], /--nick: nicknames are/],
    [['--nick', 'x'.repeat(25)], /--nick: nicknames are 1-24/],
    [['--nick', 'a', '--room', 'Not OK'], /--room: room names/],
    [['--nick', 'a', '--ttl', '0'], /--ttl must be a whole number of seconds from 1 to 604800/],
    [['--nick', 'a', '--ttl', '1.5'], /--ttl must be/],
    [['--nick', 'a', '--ttl', '604801'], /--ttl must be/],
  ])('rejects %j', (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });

  it('explains a missing AUTH_SECRET', () => {
    expect(usageError(['--nick', 'alice'], {})).toMatch(/AUTH_SECRET is not set/);
    expect(usageError(['--nick', 'alice'], { AUTH_SECRET: '  ' })).toMatch(/AUTH_SECRET is not set/);
  });

  it('follows MAX_NICK_LENGTH', () => {
    expect(usageError(['--nick', 'abcdef'], { ...env, MAX_NICK_LENGTH: '5' })).toMatch(/1-5/);
  });
});
