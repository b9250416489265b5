import {
  DEFAULT_EOF_TIMEOUT_SECONDS,
  DEFAULT_HEARTBEAT_SECONDS,
  parseArgs,
  UsageError,
} from '../../../scripts/cli/args';

function run(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseArgs(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected options, got ${parsed.kind}`);
  return parsed.options;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('parseArgs', () => {
  it('reads the URL and options, in both --opt value and --opt=value forms', () => {
    expect(
      run(['ws://127.0.0.1:3000/ws', '--nick', 'alice', '--room=Side', '--token', 'a.b', '--heartbeat=30']),
    ).toEqual({
      url: 'ws://127.0.0.1:3000/ws',
      nick: 'alice',
      room: 'side',
      token: 'a.b',
      heartbeatSeconds: 30,
      eofTimeoutSeconds: DEFAULT_EOF_TIMEOUT_SECONDS,
    });
  });

  it('has defaults and takes the URL and token from the environment', () => {
    const options = run([], { WSCHAT_URL: 'wss://chat.example.com/release', WSCHAT_TOKEN: 'x.y' });
    expect(options).toEqual({
      url: 'wss://chat.example.com/release',
      token: 'x.y',
      heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS,
      eofTimeoutSeconds: DEFAULT_EOF_TIMEOUT_SECONDS,
    });
    expect(DEFAULT_HEARTBEAT_SECONDS).toBe(240);
  });

  it('prefers the command line over the environment', () => {
    const options = run(['ws://a/ws', '--token', 'cli.token'], {
      WSCHAT_URL: 'ws://b/ws',
      WSCHAT_TOKEN: 'env.token',
    });
    expect(options.url).toBe('ws://a/ws');
    expect(options.token).toBe('cli.token');
  });

  it('recognises --help anywhere', () => {
    expect(parseArgs(['ws://a/ws', '--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('accepts 0 to turn the heartbeat off', () => {
    expect(run(['ws://a/ws', '--heartbeat', '0']).heartbeatSeconds).toBe(0);
  });

  it.each([
    [[], /missing the chat URL/],
    [['not a url'], /is not a URL/],
    [['http://127.0.0.1:3000/ws'], /HTTP URL.*ws:\/\/127\.0\.0\.1:3000\/ws/],
    [['https://chat.example.com/ws'], /wss:\/\/chat\.example\.com\/ws/],
    [['ftp://x/ws'], /must start with ws:\/\/ or wss:\/\//],
    [['ws://a/ws', 'ws://b/ws'], /expected one URL, got 2/],
    [['ws://a/ws', '--nick'], /--nick needs a value/],
    [['ws://a/ws', '--nick', '--room', 'x'], /--nick needs a value/],
    [['ws://a/ws', '--nick', '  '], /--nick must not be empty/],
    [['ws://a/ws', '--nick', 'a', '--nick', 'b'], /--nick given twice/],
    [['ws://a/ws', '--colour', 'red'], /unknown option --colour/],
    [['ws://a/ws', '--room', 'no spaces'], /--room: room names are 1-32 characters/],
    [['ws://a/ws', '--heartbeat', 'soon'], /--heartbeat must be a number of seconds/],
    [['ws://a/ws', '--heartbeat', '-5'], /--heartbeat must be a number of seconds/],
    [['ws://a/ws', '--eof-timeout', ''], /--eof-timeout must be a number of seconds/],
    [['ws://a/ws', '--token', 'has space'], /--token contains characters/],
  ])('rejects %j', (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });

  it('rejects an invalid URL from WSCHAT_URL too', () => {
    expect(usageError([], { WSCHAT_URL: 'localhost:3000' })).toMatch(/must start with ws:\/\/|is not a URL/);
  });
});
