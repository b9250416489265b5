import type { ChatMessage, ClientCommand, ServerEnvelope } from '../../code/chat/protocol';
import { parseServerFrame } from './envelope';
import {
  formatError,
  formatJoined,
  formatMessage,
  formatNotice,
  formatPresence,
  formatRenamed,
  sanitize,
} from './format';
import { COMMAND_HELP, type InputLine } from './input';

/**
 * The terminal client's state, without I/O: it is fed socket events, frames and typed lines, and answers with
 * frames to send and lines to print. chat-cli.ts does the sockets, timers and streams.
 *
 * On every (re)connect it joins its room with `since` and prints the missed messages (deduplicated by id)
 * before anything typed meanwhile is sent. Messages sent but not acknowledged when a connection broke are
 * looked up in that history: found ones were delivered, the others are sent again.
 */

export interface Output {
  /** Frames to send now, in order. */
  send: string[];
  /** Lines for stdout (the room) and stderr (status, errors). */
  out: string[];
  err: string[];
  /** The server acknowledged the join: the connection works (the reconnect backoff can start over). */
  joined?: boolean;
  /** Drop this connection and connect again, for this reason (e.g. a ping went unanswered). */
  reconnect?: string;
  quit?: boolean;
  /** Frames are waiting for the send rate limit: call flush() again after this many ms. */
  flushInMs?: number;
}

export interface SessionOptions {
  room?: string;
  nick?: string;
  /** The nick a connect token grants (read from the token): shown when the server cannot tell us. */
  tokenNick?: string;
  now?: () => number;
  /** Client-side pacing, below the server's default limit (5/s, burst 20), so pasted text is not refused. */
  ratePerSecond?: number;
  burst?: number;
  /**
   * Frames awaiting an answer at a time. The gateway runs one transport invocation per frame, concurrently,
   * so two frames sent at once can be handled in either order: a message typed after /nick could go out under
   * the old nick, and pasted lines could be stored shuffled. One at a time keeps what you typed in order.
   */
  window?: number;
}

interface Pending {
  ref: string;
  command: ClientCommand;
  /** Who sent it, on which connection: to recognise it in history after a reconnect. */
  nick?: string;
  tag?: string;
}

/**
 * Catch-up asks for messages after the one this many places before the newest seen, not after the newest:
 * concurrent transport invocations can deliver two messages out of order, and a message still on its way when
 * the connection broke would otherwise be skipped. The overlap is removed by id.
 */
export const CATCH_UP_OVERLAP = 5;
const RECENT_IDS = 64;
const SEEN_IDS = 5000;
const BUFFER_LIMIT = 1000;
/** Ref prefix of /join commands, whose history is shown like a catch-up. */
const JOIN_PREFIX = 'j';

type Phase = 'offline' | 'probing' | 'syncing' | 'ready';

function empty(): Output {
  return { send: [], out: [], err: [] };
}

export class ChatSession {
  private phase: Phase = 'offline';
  private refCounter = 0;
  /** The room we want to be in, once known (from --room, or learned from the server). */
  private room: string | undefined;
  /** Nick/tag the server confirmed for this connection. */
  private nick: string | undefined;
  private tag: string | undefined;
  /** A nick the user chose with /nick, restored after a reconnect (the server may assign another). */
  private chosenNick: string | undefined;
  private readonly initialNick: string | undefined;
  private syncRef: string | undefined;
  private probeRef: string | undefined;
  /**
   * The server refuses join (and nick) when access control is on, since the token decides the room: then
   * a `history` request with `since` does the catch-up instead (without our tag and online count).
   */
  private joinForbidden = false;
  private syncByHistory = false;
  private readonly tokenNick: string | undefined;
  private awaitingPong = false;
  private readonly outbox: Pending[] = [];
  private readonly inflight = new Map<string, Pending>();
  /** Messages in flight when a connection broke: delivered or not, history will tell. */
  private unconfirmed: Pending[] = [];
  /** Live messages received while catching up; printed in order after the history. */
  private buffered: ChatMessage[] = [];
  private readonly seen = new Set<string>();
  /** Sorted ids of recent messages of the current room, for the catch-up cursor. */
  private recent: string[] = [];
  private recentRoom: string | undefined;
  private tokens: number;
  private tokensAt: number;
  private readonly now: () => number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly window: number;

  constructor(options: SessionOptions = {}) {
    this.room = options.room;
    this.initialNick = options.nick;
    this.tokenNick = options.tokenNick;
    this.now = options.now ?? Date.now;
    this.rate = options.ratePerSecond ?? 4;
    this.burst = options.burst ?? 10;
    this.window = options.window ?? 1;
    this.tokens = this.burst;
    this.tokensAt = this.now();
  }

  /** What to offer in Sec-WebSocket-Protocol on the next connect. */
  connectOptions(): { room?: string; nick?: string } {
    return { room: this.room, nick: this.chosenNick ?? this.nick ?? this.initialNick };
  }

  currentRoom(): string | undefined {
    return this.room;
  }

  isConnected(): boolean {
    return this.phase !== 'offline';
  }

  isReady(): boolean {
    return this.phase === 'ready';
  }

  /** Frames typed but not yet answered by the server (queued, in flight or awaiting a history check). */
  outstanding(): number {
    return this.outbox.length + this.inflight.size + this.unconfirmed.length;
  }

  /** The cursor for catching up: see CATCH_UP_OVERLAP. Undefined means "the latest page". */
  catchUpCursor(): string | undefined {
    if (this.recentRoom !== this.room || this.recent.length <= CATCH_UP_OVERLAP) return undefined;
    return this.recent[this.recent.length - 1 - CATCH_UP_OVERLAP];
  }

  private nextRef(prefix: string): string {
    this.refCounter += 1;
    return `${prefix}${this.refCounter}`;
  }

  opened(): Output {
    const output = empty();
    this.awaitingPong = false;
    if (this.room === undefined && !this.joinForbidden) {
      // Without --room the server puts us in its default room; one history entry tells us which.
      this.phase = 'probing';
      this.probeRef = this.nextRef('p');
      output.send.push(JSON.stringify({ type: 'history', limit: 1, ref: this.probeRef }));
    } else {
      this.sendSync(output);
    }
    return output;
  }

  private sendSync(output: Output): void {
    this.phase = 'syncing';
    this.syncRef = this.nextRef('s');
    this.syncByHistory = this.joinForbidden;
    const since = this.catchUpCursor();
    const command = this.syncByHistory ? { type: 'history' } : { type: 'join', room: this.room };
    output.send.push(
      JSON.stringify({ ...command, ...(since === undefined ? {} : { since }), ref: this.syncRef }),
    );
  }

  closed(): Output {
    const output = empty();
    if (this.phase === 'offline') return output;
    this.phase = 'offline';
    this.syncRef = undefined;
    this.probeRef = undefined;
    this.awaitingPong = false;
    // Tags are per connection: the next one gets another.
    this.tag = undefined;
    // Commands other than messages are idempotent: send them again. Messages may have been delivered.
    const again: Pending[] = [];
    for (const pending of this.inflight.values()) {
      if (pending.command.type === 'message') this.unconfirmed.push(pending);
      else again.push(pending);
    }
    this.inflight.clear();
    this.outbox.unshift(...again);
    return output;
  }

  /** The join got no answer in time: carry on without the catch-up rather than hold typed lines for ever. */
  syncTimedOut(): Output {
    const output = empty();
    if (this.phase !== 'syncing' && this.phase !== 'probing') return output;
    output.err.push('wschat: the server did not answer the join; missed messages may not be shown');
    this.finishSync(output, [], false);
    return output;
  }

  heartbeat(): Output {
    const output = empty();
    if (this.phase === 'offline') return output;
    if (this.awaitingPong) {
      // The connection is dead even if the socket looks open (a half-open TCP connection).
      output.reconnect = 'no answer to ping';
      return output;
    }
    this.awaitingPong = true;
    output.send.push(JSON.stringify({ type: 'ping' }));
    return output;
  }

  input(line: InputLine): Output {
    const output = empty();
    switch (line.kind) {
      case 'empty':
        return output;
      case 'invalid':
        output.err.push(`! ${line.reason}`);
        return output;
      case 'help':
        output.err.push(...COMMAND_HELP);
        return output;
      case 'quit':
        output.quit = true;
        return output;
      case 'message':
        this.outbox.push({ ref: this.nextRef('m'), command: { type: 'message', text: line.text } });
        break;
      case 'nick':
        this.outbox.push({ ref: this.nextRef('n'), command: { type: 'nick', nick: line.nick } });
        break;
      case 'join': {
        const room = line.room.trim().toLowerCase();
        const since = room === this.room ? this.catchUpCursor() : undefined;
        this.outbox.push({
          ref: this.nextRef(JOIN_PREFIX),
          command: { type: 'join', room: line.room, ...(since === undefined ? {} : { since }) },
        });
        break;
      }
      case 'history':
        this.outbox.push({
          ref: this.nextRef('h'),
          command: { type: 'history', ...(line.limit === undefined ? {} : { limit: line.limit }) },
        });
        break;
    }
    this.flushInto(output);
    return output;
  }

  flush(): Output {
    const output = empty();
    this.flushInto(output);
    return output;
  }

  private flushInto(output: Output): void {
    if (this.phase !== 'ready') return;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.rate);
    this.tokensAt = now;
    while (this.outbox.length > 0 && this.tokens >= 1 && this.inflight.size < this.window) {
      const pending = this.outbox.shift()!;
      this.tokens -= 1;
      pending.nick = this.nick;
      pending.tag = this.tag;
      this.inflight.set(pending.ref, pending);
      output.send.push(JSON.stringify({ ...pending.command, ref: pending.ref }));
    }
    if (this.outbox.length > 0 && this.inflight.size < this.window)
      output.flushInMs = Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  received(data: string): Output {
    const output = empty();
    const envelope = parseServerFrame(data);
    if (!envelope) {
      output.err.push(`wschat: ignored an unreadable frame: ${sanitize(data.slice(0, 80))}`);
      return output;
    }
    this.handle(envelope, output);
    // An answer frees the window for the next queued frame.
    this.flushInto(output);
    return output;
  }

  private handle(e: ServerEnvelope, output: Output): void {
    switch (e.type) {
      case 'message':
        if (this.phase === 'syncing' || this.phase === 'probing') {
          if (this.buffered.length < BUFFER_LIMIT) this.buffered.push(e);
        } else this.show(e, output);
        return;
      case 'pong':
        this.awaitingPong = false;
        return;
      case 'presence':
        if (this.room === undefined || e.room === this.room) output.out.push(formatPresence(e));
        return;
      case 'ack':
        this.acknowledged(e, output);
        return;
      case 'history':
        if (e.ref !== undefined && e.ref === this.probeRef) {
          this.probeRef = undefined;
          this.room = e.room;
          this.sendSync(output);
          return;
        }
        if (e.ref !== undefined && e.ref === this.syncRef) {
          if (this.syncByHistory) {
            this.room = e.room;
            output.joined = true;
            const nick = this.tokenNick ?? this.nick;
            output.out.push(formatJoined(this.now(), { room: e.room, nick, tag: this.tag }));
          }
          this.finishSync(output, e.messages, e.more);
          return;
        }
        this.inflight.delete(e.ref ?? '');
        // The history that follows a /join: like a catch-up, only what was not shown yet.
        if (e.ref?.startsWith(JOIN_PREFIX)) this.showNew(e.messages, e.more, output);
        else this.showHistory(e.room, e.messages, e.more, output);
        return;
      case 'error':
        if (e.ref !== undefined && e.ref === this.syncRef && e.code === 'forbidden' && !this.syncByHistory) {
          // Expected with access control on; not worth an error line on every connect.
          this.joinForbidden = true;
          this.sendSync(output);
          return;
        }
        output.err.push(formatError(e.code, e.message));
        if (e.ref !== undefined && (e.ref === this.syncRef || e.ref === this.probeRef)) {
          this.finishSync(output, [], false);
          return;
        }
        if (e.ref !== undefined && this.inflight.delete(e.ref)) return;
        // Frames refused before they are parsed (rate_limited, too_large) come back without a ref; count the
        // error against the oldest message so that the client does not wait for an answer that never comes.
        if (e.ref === undefined) {
          for (const [ref, pending] of this.inflight) {
            if (pending.command.type === 'message') {
              this.inflight.delete(ref);
              break;
            }
          }
        }
        return;
    }
  }

  private acknowledged(e: Extract<ServerEnvelope, { type: 'ack' }>, output: Output): void {
    if (e.for === 'message') {
      this.inflight.delete(e.ref ?? '');
      this.remember(e.id);
      if (e.failed > 0)
        output.err.push(
          formatError('partial', `message reached ${e.delivered} of ${e.delivered + e.failed} others`),
        );
      if (e.stored === false)
        output.err.push(formatError('not_stored', 'message was sent but not saved in history'));
      return;
    }
    if (e.ref !== undefined && e.ref === this.syncRef) output.joined = true;
    else this.inflight.delete(e.ref ?? '');
    const before = { room: this.room, nick: this.nick };
    this.nick = e.nick;
    this.tag = e.tag;
    if (e.for === 'nick') {
      this.chosenNick = e.nick;
      output.out.push(formatRenamed(this.now(), e));
      return;
    }
    this.room = e.room;
    output.out.push(formatJoined(this.now(), e));
    if (e.ref === undefined && this.joinForbidden) {
      // Unasked, with access control on: the server lost our record and made us a guest; only a new
      // connection (with the token) gets our name and room back.
      output.reconnect = 'the server forgot this connection';
      return;
    }
    if (e.ref === undefined) {
      // Unasked: the server lost our record and put us back in its default room as a guest. Go back.
      if (before.room !== undefined && before.room !== e.room) {
        this.outbox.unshift({
          ref: this.nextRef(JOIN_PREFIX),
          command: { type: 'join', room: before.room },
        });
      }
      const nick = this.chosenNick ?? before.nick;
      if (nick !== undefined && nick !== e.nick)
        this.outbox.unshift({ ref: this.nextRef('n'), command: { type: 'nick', nick } });
      return;
    }
    // The server chose the nick at connect (a token's, or a guest nick); restore one picked with /nick.
    if (e.ref === this.syncRef && this.chosenNick !== undefined && this.chosenNick !== e.nick) {
      this.outbox.unshift({ ref: this.nextRef('n'), command: { type: 'nick', nick: this.chosenNick } });
    }
  }

  private finishSync(output: Output, history: ChatMessage[], more: boolean): void {
    this.phase = 'ready';
    this.syncRef = undefined;
    this.probeRef = undefined;
    const messages = [...history, ...this.buffered].filter((m) => m.room === this.room);
    this.buffered = [];
    messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Our own messages that were in flight when the connection broke: in history means delivered.
    const resend: Pending[] = [];
    for (const pending of this.unconfirmed) {
      const text = pending.command.type === 'message' ? pending.command.text : undefined;
      const found = messages.find(
        (m) => !this.seen.has(m.id) && m.from === pending.nick && m.tag === pending.tag && m.text === text,
      );
      if (found) this.remember(found.id);
      else resend.push(pending);
    }
    this.unconfirmed = [];
    this.outbox.unshift(...resend);
    this.showNew(messages, more && history.length > 0, output);
    this.flushInto(output);
  }

  private showNew(messages: ChatMessage[], more: boolean, output: Output): void {
    const unseen = messages.filter((m) => m.room === this.room && !this.seen.has(m.id));
    if (more && unseen.length > 0) output.out.push(formatNotice(this.now(), 'earlier messages not shown'));
    for (const message of unseen) this.show(message, output);
  }

  private showHistory(room: string, messages: ChatMessage[], more: boolean, output: Output): void {
    if (messages.length === 0) {
      output.out.push(formatNotice(this.now(), `no messages in ${sanitize(room)}`));
      return;
    }
    // A header, so that replayed lines are not mistaken for new ones.
    const count = `${messages.length} message${messages.length === 1 ? '' : 's'}`;
    const earlier = more ? ', earlier ones not shown' : '';
    output.out.push(formatNotice(this.now(), `history of ${sanitize(room)}: ${count}${earlier}`));
    // Asked for explicitly: shown even if seen before.
    for (const message of messages) {
      output.out.push(formatMessage(message));
      if (message.room === this.room) this.remember(message.id);
    }
  }

  private show(message: ChatMessage, output: Output): void {
    if (message.room !== this.room || this.seen.has(message.id)) return;
    this.remember(message.id);
    output.out.push(formatMessage(message));
  }

  /** Marks an id of the current room as known: never printed again, and a candidate catch-up cursor. */
  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    if (this.recentRoom !== this.room) {
      this.recentRoom = this.room;
      this.recent = [];
    }
    if (this.recent.includes(id)) return;
    // Ids sort by time; insert in order (usually at the end).
    let at = this.recent.length;
    while (at > 0 && this.recent[at - 1]! > id) at -= 1;
    this.recent.splice(at, 0, id);
    if (this.recent.length > RECENT_IDS) this.recent.shift();
  }
}
