import type { ChatMessage, ClientCommand, MemberEntry, UnreadRequest } from '../chat/protocol';
import { Outbox } from './outbox';
import { readEnvelope, type ClientEnvelope, type PresenceFrame } from './envelope';
import { messageIdTimePrefix } from '../chat/message-id';
import { Timeline } from './timeline';

/**
 * (Over 300 lines: sends are in outbox.ts and what was shown in timeline.ts; what is left is one state machine
 * of connect, catch-up and answers, whose handlers all check the same phase and refs.)
 *
 * The client session both faces share (the web page and the terminal client): protocol state without sockets,
 * DOM or Node. A face feeds it connection events and frames, and renders the events it emits.
 *
 * - On every (re)connect it joins its room with `since` = its catch-up cursor and pages forward with `history`
 *   until `more` is false, holding live messages meanwhile; then it emits everything it had not shown, once, in
 *   id order, and says so plainly if retention dropped some (`gap`).
 * - Sends carry a client message id (`cid`); one is in flight at a time, the rest queue. A send in flight when
 *   the connection broke is matched by cid in the catch-up, or sent again with the same cid: the server stores
 *   and delivers it once either way.
 * - "Load older" pages backwards with `history` `before` the oldest message shown.
 * - Asked by the face, never queued (only worth having while connected): member pages, unread counts of other
 *   rooms, and "I am typing" (at most one per typing interval, the rate the server passes on).
 */

export interface SessionPorts {
  /** Sends one frame on the open connection. */
  send(frame: string): void;
  /** What the face renders. */
  emit(event: SessionEvent): void;
  now(): number;
  /** Runs `run` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, run: () => void): () => void;
}

export interface SessionOptions {
  room?: string;
  nick?: string;
  /** Access control is on (the client holds a token): the server refuses join and nick, so sync by history. */
  tokenHolder?: boolean;
  /** A send without an answer after this long is reported failed (retry keeps its cid). */
  ackTimeoutMs?: number;
  /** The catch-up gives up waiting for an answer after this long and shows what it has. */
  syncTimeoutMs?: number;
  /** The server passes on one typing notice per this long (config.json's typingIntervalSeconds; 3 s). */
  typingIntervalMs?: number;
  /** Client-side pacing, below the server's default limit (5/s, burst 20), so pasted text is not refused. */
  ratePerSecond?: number;
  burst?: number;
  /** Prefix of this session's cids and refs: unique per client (random), so retries are told from new sends. */
  clientId: string;
}

export type SendState = 'queued' | 'sending' | 'delivered' | 'failed';

export interface SendUpdate {
  cid: string;
  text: string;
  state: SendState;
  /** delivered: the message's id and what the ack said (a match found in the catch-up has no counts). */
  id?: string;
  ts?: number;
  delivered?: number;
  failed?: number;
  stored?: boolean;
  /** failed: why, and whether a retry (same cid) may go through. */
  reason?: string;
  code?: string;
  retryable?: boolean;
}

/** Unread messages of one room: `capped` when the server stopped counting (that many or more). */
export interface UnreadCount {
  count: number;
  capped: boolean;
}

export type SessionEvent =
  /** The server confirmed who and where we are (`unasked`: it had lost our record and re-created it). */
  | { type: 'joined'; room: string; nick: string; tag: string; online: number; switched: boolean }
  | { type: 'renamed'; nick: string; tag: string; previous?: string }
  /** Caught up: everything missed is shown, queued sends go out. */
  | { type: 'ready' }
  /** Messages to show, in id order. `place`: first page of a room, catch-up, live, or older (prepend). */
  | {
      type: 'messages';
      place: 'first' | 'catch-up' | 'live' | 'older';
      messages: ChatMessage[];
      more?: boolean;
    }
  /** Some messages after the last one seen are older than history keeps: they cannot be shown. */
  | { type: 'gap' }
  | { type: 'send'; update: SendUpdate }
  | { type: 'presence'; presence: PresenceFrame }
  | { type: 'online'; count: number }
  /** An answer to an explicit `history` request (the terminal's /history): shown even if seen before. */
  | { type: 'history'; room: string; messages: ChatMessage[]; more: boolean }
  /** A page of the room's members, answering requestMembers; `next` asks for the following page. */
  | { type: 'members'; room: string; members: MemberEntry[]; next?: string }
  /** Unread counts answering requestUnread, by room (a Map: room names come from the server). */
  | { type: 'unread'; rooms: ReadonlyMap<string, UnreadCount> }
  /** Someone else in this room is typing; the server repeats it every few seconds while they go on. */
  | { type: 'typing'; nick: string; tag: string }
  | {
      type: 'error';
      about: 'nick' | 'join' | 'history' | 'members' | 'unread' | 'other';
      code: string;
      message: string;
    }
  /** Drop this connection and open another (the server forgot us under access control; a ping went unanswered). */
  | { type: 'reconnect'; reason: string }
  | { type: 'notice'; text: string };

type Phase = 'offline' | 'probing' | 'syncing' | 'ready';

const PAGE = 50;
const TYPING_INTERVAL_MS = 3000;
/** Live messages held while catching up; past this the catch-up's own pages cover them. */
const BUFFER_LIMIT = 1000;
/**
 * A room empty when we joined gets a time cursor a little before the server's clock, so a message stored while
 * we joined (and delivered out of order) is not skipped; the overlap is dropped by id.
 */
const FLOOR_MARGIN_MS = 5000;

export class ClientSession {
  private phase: Phase = 'offline';
  private room: string | undefined;
  private nick: string | undefined;
  private tag: string | undefined;
  /** A nick the user chose, restored after a reconnect (the server may assign another). */
  private chosenNick: string | undefined;
  private timeline: Timeline;
  private counter = 0;
  private syncRef: string | undefined;
  private syncSince: string | undefined;
  private syncPages: ChatMessage[] = [];
  private syncGap = false;
  private cancelSyncTimer?: () => void;
  private probeRef: string | undefined;
  private joinForbidden: boolean;
  /** The server refused our join (access control on, a room other than the token's): sync by history. */
  private joinRefused = false;
  private buffered: ChatMessage[] = [];
  private readonly outbox: Outbox;
  private olderRef: string | undefined;
  private awaitingPong = false;
  private clockRef: string | undefined;
  private membersRef: string | undefined;
  private unreadRef: string | undefined;
  private typingSentAt = Number.NEGATIVE_INFINITY;
  private typingIntervalMs: number;

  constructor(
    private readonly options: SessionOptions,
    private readonly ports: SessionPorts,
  ) {
    this.room = options.room;
    this.chosenNick = options.nick;
    this.joinForbidden = options.tokenHolder === true;
    this.typingIntervalMs = options.typingIntervalMs ?? TYPING_INTERVAL_MS;
    this.timeline = new Timeline(this.room);
    this.outbox = new Outbox(options, ports, (prefix) => this.nextRef(prefix));
  }

  // ---- what the face asks ------------------------------------------------------------------------------

  /** What to offer at connect time (Sec-WebSocket-Protocol entries, or the SSE query). */
  connectOptions(): { room?: string; nick?: string } {
    return { room: this.room, nick: this.chosenNick ?? this.nick };
  }

  get currentRoom(): string | undefined {
    return this.room;
  }

  get identity(): { nick?: string; tag?: string } {
    return { nick: this.nick ?? this.chosenNick, tag: this.tag };
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  get isConnected(): boolean {
    return this.phase !== 'offline';
  }

  /** Sends typed but not yet answered (queued, in flight, or awaiting the catch-up's verdict). */
  get outstanding(): number {
    return this.outbox.outstanding;
  }

  /**
   * The newest message id seen in the current room (or, for a room seen empty, a time cursor): remembered per
   * room by a face, it is the `since` of an unread count for that room later.
   */
  get lastSeen(): string | undefined {
    return this.timeline.lastSeen();
  }

  /** Whether "load older" can ask for more (something is shown and no request is out). */
  get canLoadOlder(): boolean {
    return this.phase === 'ready' && this.timeline.oldest !== undefined && this.olderRef === undefined;
  }

  /** Queues a chat message; returns its cid. */
  sendMessage(text: string): string {
    const cid = `${this.options.clientId}-${this.nextCount()}`;
    this.outbox.add({ type: 'message', text, cid }, cid);
    return cid;
  }

  /** Sends a failed message again, with the same cid (the server drops it if the first attempt got through). */
  retry(cid: string): void {
    this.outbox.retry(cid);
  }

  setNick(nick: string): void {
    if (this.phase === 'offline') {
      // Not connected: the next connection introduces us under this name.
      this.chosenNick = nick;
      return;
    }
    this.outbox.add({ type: 'nick', nick });
  }

  /** Switches rooms (or, for the current room, catches up). */
  join(room: string): void {
    const normalized = room.trim().toLowerCase();
    if (this.phase === 'offline') {
      // Not connected: the next connection opens in the new room.
      this.switchTo(normalized);
      return;
    }
    const since = normalized === this.room ? this.timeline.cursor() : undefined;
    this.outbox.add({ type: 'join', room, ...(since === undefined ? {} : { since }) });
  }

  /** An explicit look at history (the terminal's /history): answered with a `history` event. */
  history(limit?: number): void {
    this.outbox.add({ type: 'history', ...(limit === undefined ? {} : { limit }) });
  }

  /** Asks for the page before the oldest message shown; answered with `messages` place 'older'. */
  loadOlder(): boolean {
    const before = this.timeline.oldest;
    if (!this.canLoadOlder || before === undefined) return false;
    this.olderRef = this.nextRef('o');
    this.ports.send(JSON.stringify({ type: 'history', before, limit: PAGE, ref: this.olderRef }));
    return true;
  }

  /**
   * Asks for one page of the room's members (the first, or the one after `after`); answered with a `members`
   * event. Sent directly, not queued: a member list is only worth having while connected.
   */
  requestMembers(after?: string): boolean {
    if (this.phase !== 'ready') return false;
    this.membersRef = this.nextRef('m');
    this.ports.send(
      JSON.stringify({ type: 'members', ...(after === undefined ? {} : { after }), ref: this.membersRef }),
    );
    return true;
  }

  /** Asks how many messages each room got after its last seen id; answered with an `unread` event. */
  requestUnread(rooms: UnreadRequest[]): boolean {
    if (this.phase !== 'ready' || rooms.length === 0) return false;
    this.unreadRef = this.nextRef('u');
    // Object.fromEntries defines own properties, so no room name can reach a prototype.
    const named = Object.fromEntries(rooms.map(({ room, since }) => [room, since ?? null]));
    this.ports.send(JSON.stringify({ type: 'unread', rooms: named, ref: this.unreadRef }));
    return true;
  }

  /**
   * "I am typing", for each keystroke: sent at most once per typing interval (the server would drop the rest),
   * and only while ready. True when it went out.
   */
  typing(): boolean {
    if (this.phase !== 'ready') return false;
    const now = this.ports.now();
    if (now - this.typingSentAt < this.typingIntervalMs) return false;
    this.typingSentAt = now;
    this.ports.send(JSON.stringify({ type: 'typing' }));
    return true;
  }

  /** The server's typing interval, once the face has read it (the web page, from config.json). */
  useTypingInterval(ms: number): void {
    this.typingIntervalMs = ms;
  }

  // ---- connection events -------------------------------------------------------------------------------

  opened(): void {
    this.awaitingPong = false;
    if (this.room === undefined && !this.joinForbidden) {
      // No room chosen: the server puts us in its default room; one history entry tells us which.
      this.phase = 'probing';
      this.probeRef = this.nextRef('p');
      this.ports.send(JSON.stringify({ type: 'history', limit: 1, ref: this.probeRef }));
      this.armSyncTimer();
      return;
    }
    this.startSync();
  }

  closed(): void {
    if (this.phase === 'offline') return;
    this.phase = 'offline';
    this.syncRef =
      this.probeRef =
      this.olderRef =
      this.clockRef =
      this.membersRef =
      this.unreadRef =
        undefined;
    this.typingSentAt = Number.NEGATIVE_INFINITY;
    this.cancelSyncTimer?.();
    this.awaitingPong = false;
    this.buffered = [];
    // Tags are per connection: the next one gets another.
    this.tag = undefined;
    this.outbox.connectionLost();
  }

  /** Call every third of the idle timeout; a ping left unanswered since the last call means a dead connection. */
  heartbeat(): void {
    if (this.phase === 'offline') return;
    if (this.awaitingPong) {
      this.ports.emit({ type: 'reconnect', reason: 'no answer to ping' });
      return;
    }
    this.awaitingPong = true;
    this.ports.send(JSON.stringify({ type: 'ping' }));
  }

  /** A text frame from the server. */
  received(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    this.receivedParsed(parsed);
  }

  /** A frame already parsed from JSON (browsers' EventSource data, for one). */
  receivedParsed(parsed: unknown): void {
    const envelope = readEnvelope(parsed);
    if (envelope) this.handle(envelope);
  }

  // ---- sync (join + catch-up) --------------------------------------------------------------------------

  private startSync(): void {
    this.phase = 'syncing';
    this.syncRef = this.nextRef('s');
    this.syncSince = this.timeline.cursor();
    this.syncPages = [];
    this.syncGap = false;
    const since = this.syncSince === undefined ? {} : { since: this.syncSince };
    // A token holder joins the token's room when it knows it: the server allows that one, and a first join is
    // what announces the arrival to the room (the handshake tells nobody).
    const byHistory = this.joinRefused || (this.joinForbidden && this.room === undefined);
    const command = byHistory
      ? { type: 'history', ...since, limit: PAGE }
      : { type: 'join', room: this.room, ...since };
    this.ports.send(JSON.stringify({ ...command, ref: this.syncRef }));
    this.armSyncTimer();
  }

  private armSyncTimer(): void {
    this.cancelSyncTimer?.();
    const timeout = this.options.syncTimeoutMs;
    if (timeout === undefined) return;
    this.cancelSyncTimer = this.ports.setTimer(timeout, () => {
      if (this.phase !== 'syncing' && this.phase !== 'probing') return;
      this.ports.emit({
        type: 'notice',
        text: 'the server did not answer the catch-up; missed messages may not be shown',
      });
      this.finishSync();
    });
  }

  /** A page of the catch-up: ask for the next while `more`, then show everything at once. */
  private syncPage(history: Extract<ClientEnvelope, { type: 'history' }>): void {
    if (this.joinForbidden && this.room === undefined) this.room = history.room;
    if (this.syncPages.length === 0 && history.gap === true) this.syncGap = true;
    this.syncPages.push(...history.messages);
    const last = history.messages[history.messages.length - 1];
    if (this.syncSince !== undefined && history.more && last !== undefined) {
      // Paging forward from the last one received: nothing in between is skipped.
      this.syncRef = this.nextRef('s');
      this.ports.send(JSON.stringify({ type: 'history', since: last.id, limit: PAGE, ref: this.syncRef }));
      this.armSyncTimer();
      return;
    }
    this.finishSync(history.more);
  }

  private finishSync(more = false): void {
    const catchUp = this.syncSince !== undefined;
    this.phase = 'ready';
    this.syncRef = this.probeRef = undefined;
    this.cancelSyncTimer?.();
    const pages = this.syncPages.filter((m) => m.room === this.room);
    const live = this.buffered.filter((m) => m.room === this.room);
    this.syncPages = [];
    this.buffered = [];
    // A gap is real only if the oldest message history still has is not one we had seen (the overlap).
    const first = [...pages].sort((a, b) => (a.id < b.id ? -1 : 1))[0];
    const gap = this.syncGap && (first === undefined || !this.timeline.has(first.id));
    this.outbox.settle([...pages, ...live], (id) => this.timeline.add(id));
    const fresh = this.timeline.takeNew([...pages, ...live]);
    if (gap) this.ports.emit({ type: 'gap' });
    if (fresh.length > 0 || !catchUp) {
      this.ports.emit({ type: 'messages', place: catchUp ? 'catch-up' : 'first', messages: fresh, more });
    }
    this.ports.emit({ type: 'ready' });
    this.askClockIfEmpty();
    this.outbox.ready = true;
    this.outbox.flush();
  }

  /** Nothing to catch up from yet: the server's clock gives this room a cursor (see FLOOR_MARGIN_MS). */
  private askClockIfEmpty(): void {
    if (!this.timeline.isEmpty || this.timeline.cursor() !== undefined) return;
    this.clockRef = this.nextRef('c');
    this.ports.send(JSON.stringify({ type: 'ping', ref: this.clockRef }));
  }

  // ---- frames ------------------------------------------------------------------------------------------

  private handle(e: ClientEnvelope): void {
    switch (e.type) {
      case 'message':
        return this.onMessage(e);
      case 'pong':
        this.awaitingPong = false;
        if (e.ref !== undefined && e.ref === this.clockRef) {
          this.clockRef = undefined;
          if (this.timeline.isEmpty) this.timeline.setFloor(messageIdTimePrefix(e.ts - FLOOR_MARGIN_MS));
        }
        return;
      case 'presence':
        if (e.room !== undefined && this.room !== undefined && e.room !== this.room) return;
        if (e.online !== undefined) this.ports.emit({ type: 'online', count: e.online });
        this.ports.emit({ type: 'presence', presence: e });
        return;
      case 'ack':
        if (e.for === 'message') return this.onMessageAck(e);
        return this.onIdentityAck(e);
      case 'history':
        return this.onHistory(e);
      case 'members':
        if (e.ref === undefined || e.ref !== this.membersRef || e.room !== this.room) return;
        this.membersRef = undefined;
        this.ports.emit({
          type: 'members',
          room: e.room,
          members: e.members,
          ...(e.next === undefined ? {} : { next: e.next }),
        });
        return;
      case 'unread':
        return this.onUnread(e);
      case 'typing':
        if (e.room === this.room) this.ports.emit({ type: 'typing', nick: e.nick, tag: e.tag });
        return;
      case 'error':
        return this.onError(e);
    }
  }

  private onUnread(e: Extract<ClientEnvelope, { type: 'unread' }>): void {
    if (e.ref === undefined || e.ref !== this.unreadRef) return;
    this.unreadRef = undefined;
    const capped = new Set(e.capped ?? []);
    const rooms = new Map<string, UnreadCount>();
    for (const [room, count] of Object.entries(e.rooms)) rooms.set(room, { count, capped: capped.has(room) });
    this.ports.emit({ type: 'unread', rooms });
  }

  private onMessage(message: Extract<ClientEnvelope, { type: 'message' }>): void {
    if (message.room !== this.room) return;
    this.ports.emit({ type: 'online', count: message.online });
    if (this.phase !== 'ready') {
      if (this.buffered.length < BUFFER_LIMIT) this.buffered.push(message);
      return;
    }
    const fresh = this.timeline.takeNew([message]);
    if (fresh.length > 0) this.ports.emit({ type: 'messages', place: 'live', messages: fresh });
  }

  private onMessageAck(ack: Extract<ClientEnvelope, { type: 'ack'; for: 'message' }>): void {
    this.ports.emit({ type: 'online', count: ack.online });
    const pending = this.outbox.answering(ack.ref);
    this.timeline.add(ack.id);
    if (!pending) return;
    this.outbox.complete(pending, {
      state: 'delivered',
      id: ack.id,
      delivered: ack.delivered,
      failed: ack.failed,
      stored: ack.stored,
    });
  }

  private onIdentityAck(ack: Extract<ClientEnvelope, { type: 'ack'; for: 'join' | 'nick' }>): void {
    const previous = { room: this.room, nick: this.nick };
    this.nick = ack.nick;
    this.tag = ack.tag;
    this.ports.emit({ type: 'online', count: ack.online });
    const pending = this.outbox.answering(ack.ref);
    // A join is done when its history arrives (same ref); a nick with its ack.
    if (pending && pending.command.type !== 'join') this.outbox.complete(pending);
    if (ack.for === 'nick') {
      this.chosenNick = ack.nick;
      this.ports.emit({ type: 'renamed', nick: ack.nick, tag: ack.tag, previous: previous.nick });
      return;
    }
    const switched = ack.room !== this.room;
    if (switched) this.switchTo(ack.room);
    this.ports.emit({
      type: 'joined',
      room: ack.room,
      nick: ack.nick,
      tag: ack.tag,
      online: ack.online,
      switched,
    });
    if (ack.ref === undefined) return this.onUnaskedJoin(previous.room, ack.nick);
    // The server chose the nick at connect (a guest nick after a restart); restore the one picked.
    const restore = this.chosenNick !== undefined && this.chosenNick !== ack.nick && !this.joinForbidden;
    if (ack.ref === this.syncRef && restore) this.outbox.addFirst([{ type: 'nick', nick: this.chosenNick! }]);
  }

  /** The server lost our record and re-created it as a guest in its default room. */
  private onUnaskedJoin(room: string | undefined, nick: string): void {
    if (this.joinForbidden) {
      // Our name and room came from a token the server no longer has: only a new connection restores them.
      this.ports.emit({ type: 'reconnect', reason: 'the server forgot this connection' });
      return;
    }
    const restore: ClientCommand[] = [];
    if (this.chosenNick !== undefined && this.chosenNick !== nick)
      restore.push({ type: 'nick', nick: this.chosenNick });
    if (room !== undefined && room !== this.room) restore.push({ type: 'join', room });
    this.outbox.addFirst(restore);
  }

  private switchTo(room: string): void {
    if (room === this.room) return;
    this.room = room;
    this.timeline = new Timeline(room);
    // Answers about the room left must not land in the new room's timeline.
    this.olderRef = this.clockRef = undefined;
  }

  private onHistory(history: Extract<ClientEnvelope, { type: 'history' }>): void {
    const ref = history.ref;
    if (ref !== undefined && ref === this.probeRef) {
      this.probeRef = undefined;
      this.switchTo(history.room);
      this.startSync();
      return;
    }
    if (ref !== undefined && ref === this.syncRef) return this.syncPage(history);
    if (ref !== undefined && ref === this.olderRef) {
      this.olderRef = undefined;
      if (history.room !== this.room) return;
      const older = this.timeline.takeNew(history.messages);
      this.ports.emit({ type: 'messages', place: 'older', messages: older, more: history.more });
      return;
    }
    const pending = this.outbox.answering(ref);
    if (!pending) return;
    this.outbox.complete(pending);
    if (pending.command.type === 'join') {
      // The first page of the room just joined.
      const fresh = this.timeline.takeNew(history.messages.filter((m) => m.room === this.room));
      this.ports.emit({ type: 'messages', place: 'first', messages: fresh, more: history.more });
      // A room joined while empty needs a cursor as much as one connected to.
      this.askClockIfEmpty();
    } else {
      for (const message of history.messages) if (message.room === this.room) this.timeline.add(message.id);
      this.ports.emit({
        type: 'history',
        room: history.room,
        messages: history.messages,
        more: history.more,
      });
    }
  }

  private onError(error: Extract<ClientEnvelope, { type: 'error' }>): void {
    const ref = error.ref;
    if (ref !== undefined && ref === this.syncRef && error.code === 'forbidden' && !this.joinRefused) {
      // Access control is on: the token fixes the room. Catch up by history instead, without a word.
      this.joinForbidden = true;
      this.joinRefused = true;
      this.startSync();
      return;
    }
    if (ref !== undefined && (ref === this.syncRef || ref === this.probeRef)) {
      this.ports.emit({ type: 'error', about: 'join', code: error.code, message: error.message });
      this.finishSync();
      return;
    }
    if (ref !== undefined && ref === this.olderRef) {
      this.olderRef = undefined;
      this.ports.emit({ type: 'error', about: 'history', code: error.code, message: error.message });
      return;
    }
    if (ref !== undefined && ref === this.membersRef) {
      this.membersRef = undefined;
      this.ports.emit({ type: 'error', about: 'members', code: error.code, message: error.message });
      return;
    }
    if (ref !== undefined && ref === this.unreadRef) {
      this.unreadRef = undefined;
      this.ports.emit({ type: 'error', about: 'unread', code: error.code, message: error.message });
      return;
    }
    // Frames refused before they are parsed (rate_limited, too_large) come back without a ref: they belong to
    // the one in flight.
    const pending = ref === undefined ? this.outbox.inFlight : this.outbox.answering(ref);
    if (pending?.cid !== undefined) return this.outbox.fail(pending, error.code, error.message);
    if (pending) {
      this.outbox.complete(pending);
      const type = pending.command.type;
      const about = type === 'nick' || type === 'join' || type === 'history' ? type : 'other';
      this.ports.emit({ type: 'error', about, code: error.code, message: error.message });
      return;
    }
    this.ports.emit({ type: 'error', about: 'other', code: error.code, message: error.message });
  }

  private nextCount(): number {
    this.counter += 1;
    return this.counter;
  }

  private nextRef(prefix: string): string {
    return `${prefix}${this.nextCount()}`;
  }
}
