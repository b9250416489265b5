import type { IncomingMessage } from 'http';
import readline from 'readline';
import WebSocket from 'ws';
import { connectProtocols } from '../../code/chat/protocol';
import { parseArgs, USAGE, UsageError, type CliOptions } from './args';
import { readTokenClaims } from '../../code/chat/token-claims';
import { formatSeconds } from './format';
import { randomBytes } from 'crypto';
import { COMMAND_HELP, parseInputLine, type InputLine } from './input';
import { isAuthRefusal, Reconnector, type Failure } from './reconnect';
import { ClientSession, type SessionEvent } from '../../code/client/session';
import { formatJoined } from './format';
import { renderEvent } from './render';
import { loadDotEnv } from '../load-env';
import { eventsUrlOf, sseQuery, SseLink } from './sse-link';
import { Extras, identityFile, loadIdentityKey, parseExtraInput } from './extras';
import { RecentRooms } from '../../code/client/recent-rooms';
import { UNREAD_ROOMS } from '../../code/chat/unread';

/**
 * The terminal chat client: `npm run cli -- ws://127.0.0.1:3000/ws --nick alice`. Lines typed on stdin are sent, what
 * happens in the room is printed on stdout (one line per event), status and errors go to stderr. The protocol
 * state is the shared client session (code/client/session.ts, the web page's too); render.ts turns its events
 * into lines; extras.ts adds /who, typing and the identity key; reconnect.ts, args.ts and format.ts do the rest. This file only wires sockets, streams and timers.
 */

/** How long the join (and its history) may take before typed lines are sent anyway. */
const SYNC_TIMEOUT_MS = 10_000;
/** How long a graceful close may take before the process exits regardless. */
const CLOSE_TIMEOUT_MS = 1_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Enough for the gateway's JSON refusal; the rest of a large error page is not needed. */
const REFUSAL_BODY_LIMIT = 4096;

function status(line: string): void {
  process.stderr.write(`wschat: ${line}\n`);
}

function exit(code: number): void {
  // Exit once what was written reached the streams (asynchronous for some stream types).
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** The `errMsg` of a refused handshake (the gateway answers JSON), or the start of whatever body it sent. */
function refusalReason(body: string, fallback: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const { errMsg, message } = parsed as { errMsg?: unknown; message?: unknown };
      if (typeof errMsg === 'string' && errMsg) return errMsg;
      if (typeof message === 'string' && message) return message;
    }
  } catch {
    // not JSON
  }
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return text || fallback;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    // The gateway closes right after a refusal, and a proxy may never finish the body: bounded either way.
    const timer = setTimeout(done, 2000);
    res.on('data', (chunk: Buffer) => {
      if (size < REFUSAL_BODY_LIMIT) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}

function run(options: CliOptions, env: NodeJS.ProcessEnv): void {
  const claims = (options.token === undefined ? undefined : readTokenClaims(options.token)) ?? {};
  // With a token, the token is who you are; otherwise the key kept in a file keeps your tag across runs.
  const keyFile = options.token === undefined ? identityFile(env) : undefined;
  let key: string | undefined;
  if (keyFile !== undefined) {
    try {
      const loaded = loadIdentityKey(keyFile);
      key = loaded.key;
      if (loaded.created)
        status(`created your identity key in ${keyFile} (it keeps your #tag; keep it private)`);
    } catch (error) {
      status(
        `cannot keep an identity key in ${keyFile} (${error instanceof Error ? error.message : String(error)}); your #tag will change`,
      );
    }
  }
  const extras = new Extras();
  // The rooms left with /join and the last message seen in each, for /unread (the page keeps the same list).
  const recentRooms = new RecentRooms(new Map<string, string>());
  const received = (text: string) => {
    for (const line of extras.received(text, Date.now())) process.stdout.write(`${line}\n`);
    session.received(text);
  };
  const reconnector = new Reconnector();
  /** The open WebSocket, or the --sse stream standing in for it. */
  let socket: WebSocket | SseLink | undefined;
  const isOpen = (link: WebSocket | SseLink) =>
    link instanceof SseLink ? link.isOpen : link.readyState === WebSocket.OPEN;
  let finalCode = 0;
  /** Input ended (EOF or /quit): leave once everything typed was answered. */
  let draining = false;
  let closing = false;
  /** Whether the server acknowledged a join on this connection (with access control on, it never does). */
  let joinedHere = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const session = new ClientSession(
    {
      room: options.room ?? claims.room,
      nick: options.nick,
      tokenHolder: options.token !== undefined,
      syncTimeoutMs: SYNC_TIMEOUT_MS,
      clientId: randomBytes(6).toString('base64url'),
    },
    {
      send(frame) {
        if (socket && isOpen(socket)) socket.send(frame);
      },
      emit: (event) => onEvent(event),
      now: Date.now,
      setTimer(ms, run) {
        const timer = setTimeout(run, ms);
        return () => clearTimeout(timer);
      },
    },
  );
  const heartbeatTimer =
    options.heartbeatSeconds > 0
      ? setInterval(() => session.heartbeat(), options.heartbeatSeconds * 1000)
      : undefined;

  function onEvent(event: SessionEvent): void {
    const now = Date.now();
    if (event.type === 'joined') joinedHere = true;
    if (event.type === 'ready') {
      reconnector.joined();
      // With access control on there is no join ack: say where we are from the token.
      if (!joinedHere && session.currentRoom !== undefined) {
        joinedHere = true;
        process.stdout.write(`${formatJoined(now, { room: session.currentRoom, nick: claims.nick })}\n`);
      }
    }
    const { out, err } = renderEvent(event, now);
    for (const line of out) process.stdout.write(`${line}\n`);
    for (const line of err) process.stderr.write(`${line}\n`);
    if (event.type === 'reconnect' && socket) {
      status(`${event.reason}; reconnecting`);
      socket.terminate();
    }
    if (draining) maybeFinish();
  }

  function onInput(line: InputLine): void {
    switch (line.kind) {
      case 'empty':
        return;
      case 'invalid':
        process.stderr.write(`! ${line.reason}\n`);
        return;
      case 'help':
        for (const help of COMMAND_HELP) process.stderr.write(`${help}\n`);
        return;
      case 'quit':
        startDraining();
        return maybeFinish();
      case 'message':
        session.sendMessage(line.text);
        return;
      case 'nick':
        return session.setNick(line.nick);
      case 'join':
        if (session.currentRoom !== undefined) {
          recentRooms.visit(session.currentRoom);
          if (session.lastSeen !== undefined) recentRooms.markSeen(session.currentRoom, session.lastSeen);
        }
        return session.join(line.room);
      case 'history':
        return session.history(line.limit);
      case 'older':
        if (!session.loadOlder()) process.stderr.write('! nothing older to ask for yet\n');
        return;
      case 'unread': {
        const rooms =
          session.currentRoom === undefined
            ? []
            : recentRooms.unreadRequest(session.currentRoom, UNREAD_ROOMS);
        if (rooms.length === 0)
          process.stderr.write('! /unread counts the rooms you left with /join; none yet\n');
        else if (!session.requestUnread(rooms)) status('not connected; try again when connected');
        return;
      }
    }
  }

  /** Hands the session what the stream brings, as connect() does for a WebSocket's events. */
  function connectSse(): void {
    reconnectTimer = undefined;
    const url = eventsUrlOf(options.url);
    let refusal: Failure | undefined;
    let lastError: string | undefined;
    let opened = false;
    const link: SseLink = new SseLink(
      url,
      sseQuery({ ...session.connectOptions(), token: options.token, key }),
      {
        open: () => {
          opened = true;
          status(`connected to ${url} (server-sent events)`);
          onOpened();
        },
        message: received,
        refused: (code, body) => {
          refusal = { status: code, reason: refusalReason(body, `HTTP ${code}`) };
        },
        error: (message) => {
          lastError = message;
        },
        close: (code, reason) => {
          if (socket !== link) return;
          onClosed(
            refusal ?? {
              reason: opened
                ? `stream closed (${code}${reason ? ` ${reason}` : ''})`
                : (lastError ?? 'stream closed'),
            },
            opened,
          );
        },
      },
      HANDSHAKE_TIMEOUT_MS,
    );
    socket = link;
  }

  function onOpened(): void {
    reconnector.opened();
    joinedHere = false;
    session.opened();
  }

  function onClosed(failure: Failure, opened: boolean): void {
    socket = undefined;
    session.closed();
    if (closing) return exit(finalCode);
    const decision = reconnector.failed(failure);
    if (decision.action === 'give-up') {
      let hint = '';
      if (isAuthRefusal(failure))
        hint = options.token
          ? ' (the token is invalid or expired; ask for a new one)'
          : ' (this chat needs a token: pass --token or set WSCHAT_TOKEN)';
      status(`${decision.reason}${hint}`);
      return finish(1);
    }
    const what = opened ? 'disconnected' : 'cannot connect';
    status(`${what}: ${failure.reason}; reconnecting in ${formatSeconds(decision.delayMs)}`);
    reconnectTimer = setTimeout(connect, decision.delayMs);
  }

  function connect(): void {
    if (options.sse) return connectSse();
    reconnectTimer = undefined;
    const protocols = connectProtocols({ ...session.connectOptions(), token: options.token, key });
    let ws: WebSocket;
    try {
      ws = new WebSocket(options.url, protocols, {
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: false,
      });
    } catch (error) {
      status(`cannot connect: ${error instanceof Error ? error.message : String(error)}`);
      return exit(1);
    }
    socket = ws;
    let refusal: Failure | undefined;
    let lastError: string | undefined;
    let opened = false;

    ws.on('unexpected-response', (_req, res) => {
      const fallback = `HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trim();
      void readBody(res).then((body) => {
        refusal = { status: res.statusCode, reason: refusalReason(body, fallback) };
        // Ends the handshake: ws then emits 'error' and 'close', handled below.
        ws.terminate();
      });
    });
    ws.on('open', () => {
      opened = true;
      status(`connected to ${options.url}`);
      onOpened();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      received(text);
    });
    ws.on('error', (error) => {
      lastError = error.message;
    });
    ws.on('close', (code, reason) => {
      if (socket !== ws) return;
      const failure: Failure = refusal ?? {
        reason: opened
          ? `connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`
          : (lastError ?? `connection closed (${code})`),
      };
      onClosed(failure, opened);
    });
  }

  /** Closes the socket gracefully (the server then announces our leave) and exits. */
  function finish(code: number): void {
    if (closing) return;
    closing = true;
    finalCode = code;
    for (const timer of [reconnectTimer, drainTimer]) if (timer) clearTimeout(timer);
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    const ws = socket;
    if (!ws) return exit(code);
    if (ws instanceof SseLink) ws.close();
    else if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
    else ws.terminate();
    setTimeout(() => exit(code), CLOSE_TIMEOUT_MS).unref();
  }

  function startDraining(): void {
    if (draining) return;
    draining = true;
    drainTimer = setTimeout(() => {
      const left = session.outstanding;
      if (left > 0) status(`${left} message(s) or command(s) not confirmed by the server; giving up`);
      else status('the chat did not answer in time; giving up');
      finish(1);
    }, options.eofTimeoutSeconds * 1000);
  }

  function maybeFinish(): void {
    // Ready means the join's history was printed too: `wschat URL </dev/null` shows the room and leaves.
    if (draining && !closing && session.isReady && session.outstanding === 0) finish(0);
  }

  const input = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  input.on('line', (line) => {
    if (draining || closing) return;
    const extra = parseExtraInput(line);
    if (!extra) return onInput(parseInputLine(line));
    const { send, err } = extras.command(extra);
    if (err) process.stderr.write(`${err}\n`);
    else if (send && socket && isOpen(socket)) socket.send(send);
    else if (send) status('not connected; try again when connected');
  });
  input.on('close', () => {
    if (closing) return;
    startDraining();
    maybeFinish();
  });

  let interrupted = false;
  const onSignal = () => {
    // A second Ctrl-C while closing means "now".
    if (interrupted) process.exit(130);
    interrupted = true;
    finish(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `wschat ... | head` closes stdout: nothing left to show, so leave quietly.
  process.stdout.on('error', () => finish(0));

  if (process.stdin.isTTY)
    status('type a message and press Enter; /help lists the commands; Ctrl-D or Ctrl-C quits');
  connect();
}

function main(argv: string[], env: NodeJS.ProcessEnv): void {
  let parsed;
  try {
    parsed = parseArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    status(error.message);
    process.stderr.write('Try "npm run cli -- --help".\n');
    return exit(2);
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return exit(0);
  }
  run(parsed.options, env);
}

loadDotEnv();
main(process.argv.slice(2), process.env);
