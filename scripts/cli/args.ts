import { ProtocolError } from '../../code/chat/protocol';
import { normalizeRoom } from '../../code/chat/rules';

export interface CliOptions {
  url: string;
  nick?: string;
  room?: string;
  token?: string;
  /** Seconds between `ping` frames; 0 turns the heartbeat off. */
  heartbeatSeconds: number;
  /** After stdin ends, how long to wait for unacknowledged messages before giving up. */
  eofTimeoutSeconds: number;
  /** Talk over the gateway's server-sent events and POSTs instead of a WebSocket. */
  sse?: true;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'run'; options: CliOptions };

/** A mistake in the command line: printed with a hint, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_HEARTBEAT_SECONDS = 240;
export const DEFAULT_EOF_TIMEOUT_SECONDS = 5;

export const USAGE = `Usage: npm run cli -- <ws-url> [--nick NAME] [--room ROOM] [--token TOKEN] [--heartbeat SECONDS] [--sse]
       node dist/tools/chat-cli.js <ws-url> [options]      (after npm run build; no rebuild, starts faster)

A terminal client for the chat: each line you type is sent to the room, and what happens in the room is
printed, one line per event.

  <ws-url>               ws:// or wss:// address of the chat, e.g. ws://127.0.0.1:3000/ws (or set WSCHAT_URL)
  --nick NAME            your nickname (default: the server picks guest-xxxx)
  --room ROOM            room to join (default: the server's default room)
  --token TOKEN          signed connect token (or set WSCHAT_TOKEN); it fixes your nick and room
  --heartbeat SECONDS    send a ping this often (default ${DEFAULT_HEARTBEAT_SECONDS}; 0 turns it off)
  --eof-timeout SECONDS  when input ends, wait this long for unconfirmed messages (default ${DEFAULT_EOF_TIMEOUT_SECONDS})
  --sse                  no WebSocket: read server-sent events from the gateway's /events and send with POSTs
                         (for networks that block WebSockets; the URL may then also be http(s)://host)
  -h, --help             show this help

Commands (a line starting with "/"; start a message with "//" to send a literal "/"):
  /nick NAME   change your nickname          /join ROOM   move to another room
  /history [N] show the last N messages       /quit        leave (like end of input)
  /who [more]  who is in the room             /typing      tell the room you are typing
  /help        list the commands

Output: stdout has what happens in the room, one line per event:
  HH:MM:SS nick#tag: text                    a message (line breaks shown as \\n)
  HH:MM:SS * notice                          joins, leaves, renames, your own joins
stderr has status lines ("wschat: ...") and errors ("! code: message"). Your own messages are not echoed.

Identity: without --token, a random key kept in ~/.config/wschat/identity (or $XDG_CONFIG_HOME/wschat/identity,
or the file $WSCHAT_IDENTITY_FILE names; set it empty for none) keeps your #tag the same on every connection.

Exit status: 0 when you quit or input ends and everything you sent was confirmed; 1 when the server refuses
the connection (e.g. a missing or invalid token) or messages stay unconfirmed; 2 for a bad command line.`;

const VALUE_OPTIONS = ['--nick', '--room', '--token', '--heartbeat', '--eof-timeout'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function isValueOption(name: string): name is ValueOption {
  return (VALUE_OPTIONS as readonly string[]).includes(name);
}

function seconds(option: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 86_400) {
    throw new UsageError(`${option} must be a number of seconds from 0 to 86400, got "${raw}"`);
  }
  return value;
}

export function parseUrl(raw: string, httpAllowed = false): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`"${raw}" is not a URL; expected something like ws://127.0.0.1:3000/ws`);
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && httpAllowed) return url.toString();
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const suggestion = `${url.protocol === 'https:' ? 'wss' : 'ws'}:${raw.slice(url.protocol.length)}`;
    throw new UsageError(`"${raw}" is an HTTP URL; the chat needs a WebSocket URL such as ${suggestion}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`"${raw}" must start with ws:// or wss://`);
  }
  return url.toString();
}

/**
 * Reads the option at argv[index] (`--name value` or `--name=value`): its name, its value, and the index of the
 * last argument it used. Throws UsageError when the value is missing.
 */
export function readOption(
  argv: readonly string[],
  index: number,
): { name: string; value: string; last: number } {
  const arg = argv[index]!;
  const eq = arg.indexOf('=');
  if (eq !== -1) return { name: arg.slice(0, eq), value: arg.slice(eq + 1), last: index };
  const value = argv[index + 1];
  // "--nick --room x" is a forgotten value, not a nick that starts with dashes.
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`);
  return { name: arg, value, last: index + 1 };
}

/** Reads argv (without node and the script) and the environment; throws UsageError on mistakes. */
export function parseArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): ParsedArgs {
  const values: Partial<Record<ValueOption, string>> = {};
  const positional: string[] = [];
  let sse = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--sse') {
      sse = true;
      continue;
    }
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const name = arg.split('=', 1)[0]!;
      if (!isValueOption(name)) throw new UsageError(`unknown option ${name}`);
      const option = readOption(argv, i);
      i = option.last;
      if (values[name] !== undefined) throw new UsageError(`${name} given twice`);
      values[name] = option.value;
      continue;
    }
    positional.push(arg);
  }
  if (positional.length > 1) throw new UsageError(`expected one URL, got ${positional.length} arguments`);
  const rawUrl = positional[0] ?? env.WSCHAT_URL;
  if (!rawUrl) throw new UsageError('missing the chat URL (e.g. ws://127.0.0.1:3000/ws, or set WSCHAT_URL)');

  const options: CliOptions = {
    url: parseUrl(rawUrl, sse),
    ...(sse ? { sse: true as const } : {}),
    heartbeatSeconds:
      values['--heartbeat'] === undefined
        ? DEFAULT_HEARTBEAT_SECONDS
        : seconds('--heartbeat', values['--heartbeat']),
    eofTimeoutSeconds:
      values['--eof-timeout'] === undefined
        ? DEFAULT_EOF_TIMEOUT_SECONDS
        : seconds('--eof-timeout', values['--eof-timeout']),
  };
  const nick = values['--nick']?.trim();
  if (nick !== undefined) {
    if (nick === '') throw new UsageError('--nick must not be empty');
    options.nick = nick;
  }
  if (values['--room'] !== undefined) {
    try {
      // The room travels in Sec-WebSocket-Protocol, so check it here rather than get a bare refusal.
      options.room = normalizeRoom(values['--room']);
    } catch (error) {
      if (error instanceof ProtocolError) throw new UsageError(`--room: ${error.message}`);
      throw error;
    }
  }
  const token = values['--token'] ?? env.WSCHAT_TOKEN;
  if (token !== undefined && token !== '') {
    // Tokens are base64url pieces joined by "."; anything else cannot be sent as a sub-protocol entry.
    if (!/^[A-Za-z0-9._-]+$/.test(token))
      throw new UsageError('--token contains characters a token cannot have');
    options.token = token;
  }
  return { kind: 'run', options };
}
