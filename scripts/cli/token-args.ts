import { ProtocolError } from '../../code/chat/protocol';
import { normalizeNick, normalizeRoom } from '../../code/chat/rules';
import { DEFAULT_TOKEN_TTL_SECONDS, isTokenTtl, MAX_TOKEN_TTL_SECONDS } from '../../code/chat/token-ttl';
import { readOption, UsageError } from './args';

/** Command line of scripts/token.ts, kept here so that it can be tested without running the script. */

export interface TokenOptions {
  nick: string;
  room: string;
  ttlSeconds: number;
}

/** Same bounds as the publish API's POST /token. */
export const MAX_TTL_SECONDS = MAX_TOKEN_TTL_SECONDS;
export const DEFAULT_TTL_SECONDS = DEFAULT_TOKEN_TTL_SECONDS;

export const TOKEN_USAGE = `Usage: npm run -s token -- --nick NAME [--room ROOM] [--ttl SECONDS]

Prints a signed connect token for the chat, made with AUTH_SECRET from the environment (the same secret the
functions have). Give it to a client: npm run cli -- <ws-url> --token <token>, or the web page's token field.

  --nick NAME      the nickname the token grants (required)
  --room ROOM      the room the token grants (default: DEFAULT_ROOM, else lobby)
  --ttl SECONDS    how long the token is valid for connecting (default ${DEFAULT_TTL_SECONDS}, at most ${MAX_TTL_SECONDS})`;

export type ParsedTokenArgs = { kind: 'help' } | { kind: 'issue'; options: TokenOptions; secret: string };

function rules<T>(option: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ProtocolError) throw new UsageError(`${option}: ${error.message}`);
    throw error;
  }
}

export function parseTokenArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): ParsedTokenArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const name = arg.split('=', 1)[0]!;
    if (name !== '--nick' && name !== '--room' && name !== '--ttl') {
      throw new UsageError(arg.startsWith('-') ? `unknown option ${name}` : `unexpected argument "${arg}"`);
    }
    const option = readOption(argv, i);
    i = option.last;
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, option.value);
  }
  const rawNick = values.get('--nick');
  if (rawNick === undefined) throw new UsageError('--nick is required');
  const maxNickLength = Number(env.MAX_NICK_LENGTH) || 24;
  // The functions check the same rules at connect: a token they would refuse is better refused now.
  const nick = rules('--nick', () => normalizeNick(rawNick, maxNickLength));
  const room = rules('--room', () => normalizeRoom(values.get('--room') ?? env.DEFAULT_ROOM ?? 'lobby'));
  const rawTtl = values.get('--ttl');
  const ttlSeconds = rawTtl === undefined ? DEFAULT_TTL_SECONDS : Number(rawTtl);
  if (!isTokenTtl(ttlSeconds)) {
    throw new UsageError(
      `--ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}, got "${rawTtl}"`,
    );
  }
  const secret = env.AUTH_SECRET?.trim();
  if (!secret) {
    throw new UsageError(
      'AUTH_SECRET is not set: export the secret the chat functions use (AUTH_SECRET=... npm run -s token -- ...)',
    );
  }
  return { kind: 'issue', options: { nick, room, ttlSeconds }, secret };
}
