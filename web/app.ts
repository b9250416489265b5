import { connectProtocols, type ChatMessage, type ServerEnvelope } from '../code/chat/protocol';
import { eventsUrlFor, loadConfig, readParams, type ClientConfig, type PageParams } from './config';
import { Connection, type CloseInfo } from './connection';
import { MessageList, type MessageRow } from './view';
import {
  checkNick,
  checkRoom,
  DEFAULT_ROOM,
  hueOf,
  initialOf,
  readTokenClaims,
  storage,
  type TokenClaims,
} from './util';

/** The chat page: wires the connection, the message list and the forms together. */

const KEYS = { nick: 'wschat.nick', room: 'wschat.room', rooms: 'wschat.rooms', own: 'wschat.own' };
const MAX_RECENT_ROOMS = 8;
const MAX_OWN_KEYS = 100;
/** An own message without an ack after this long is shown as failed, with a retry. */
const ACK_TIMEOUT_MS = 15_000;
/** Codes worth a retry button: the same message may well go through later. */
const RETRYABLE = new Set(['rate_limited', 'store_unavailable', 'internal', 'timeout']);

type Status = 'connecting' | 'online' | 'reconnecting' | 'offline';
type ErrorEnvelope = Extract<ServerEnvelope, { type: 'error' }>;
type IdentityAck = Extract<ServerEnvelope, { type: 'ack'; for: 'join' | 'nick' }>;

interface Outgoing {
  ref: string;
  text: string;
  row: MessageRow;
  /** queued: not sent yet; sending: awaiting ack; unconfirmed: sent, then the socket closed before the ack. */
  state: 'queued' | 'sending' | 'unconfirmed' | 'failed';
  timer?: number;
}

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`page element #${id} is missing`);
  return node;
}

const dom = {
  app: byId('app', HTMLDivElement),
  sidebar: byId('sidebar', HTMLElement),
  scrim: byId('scrim', HTMLDivElement),
  menuButton: byId('menu-button', HTMLButtonElement),
  meAvatar: byId('me-avatar', HTMLSpanElement),
  meNick: byId('me-nick', HTMLSpanElement),
  meTag: byId('me-tag', HTMLSpanElement),
  nickForm: byId('nick-form', HTMLFormElement),
  nickInput: byId('nick-input', HTMLInputElement),
  nickSave: byId('nick-save', HTMLButtonElement),
  nickError: byId('nick-error', HTMLParagraphElement),
  roomForm: byId('room-form', HTMLFormElement),
  roomInput: byId('room-input', HTMLInputElement),
  roomJoin: byId('room-join', HTMLButtonElement),
  roomError: byId('room-error', HTMLParagraphElement),
  roomList: byId('room-list', HTMLUListElement),
  identityNote: byId('identity-note', HTMLParagraphElement),
  invite: byId('invite', HTMLElement),
  inviteRoom: byId('invite-room', HTMLElement),
  inviteCopy: byId('invite-copy', HTMLButtonElement),
  roomLabel: byId('room-label', HTMLSpanElement),
  online: byId('online', HTMLParagraphElement),
  onlineText: byId('online-text', HTMLSpanElement),
  status: byId('status', HTMLDivElement),
  statusText: byId('status-text', HTMLSpanElement),
  banner: byId('banner', HTMLDivElement),
  bannerText: byId('banner-text', HTMLSpanElement),
  bannerAction: byId('banner-action', HTMLButtonElement),
  messages: byId('messages', HTMLOListElement),
  jump: byId('jump', HTMLButtonElement),
  composer: byId('composer', HTMLFormElement),
  input: byId('message-input', HTMLTextAreaElement),
  send: byId('send', HTMLButtonElement),
  welcome: byId('welcome', HTMLDialogElement),
  welcomeForm: byId('welcome-form', HTMLFormElement),
  welcomeNick: byId('welcome-nick', HTMLInputElement),
  welcomeRoom: byId('welcome-room', HTMLInputElement),
  welcomeError: byId('welcome-error', HTMLParagraphElement),
};

function showFieldError(node: HTMLElement, input: HTMLInputElement, message: string | undefined): void {
  node.textContent = message ?? '';
  node.hidden = message === undefined;
  if (message === undefined) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

class ChatApp {
  private readonly list = new MessageList(dom.messages, dom.jump);
  private readonly token: string | undefined;
  private readonly claims: TokenClaims | undefined;
  private connection?: Connection;
  private nick: string | undefined;
  private room: string;
  private tag: string | undefined;
  private joined = false;
  private everJoined = false;
  private joinRef?: string;
  private joinSince?: string;
  private nickRef?: string;
  private lastId?: string;
  private readonly seen = new Set<string>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly ownKeys: Set<string>;
  private refSeq = 0;
  private readonly refPrefix = Math.random().toString(36).slice(2, 8);
  private unread = 0;
  private stopped = false;
  /** The server wants a token and the page has none: nothing to edit, nothing to send. */
  private inviteOnly = false;

  constructor(private readonly params: PageParams) {
    this.token = params.token;
    this.claims = this.token === undefined ? undefined : readTokenClaims(this.token);
    this.ownKeys = new Set(storage.getList(KEYS.own));
    const stored = storage.get(KEYS.nick);
    this.nick = stored !== undefined && checkNick(stored).ok ? stored : undefined;
    this.room = DEFAULT_ROOM;
    if (this.token !== undefined) {
      // The server takes nick and room from the token; the claims only let the page show and join them.
      const room = checkRoom(this.claims?.room ?? '');
      this.room = room.ok ? room.value : DEFAULT_ROOM;
      this.nick = this.claims?.nick;
    } else {
      const wanted = params.room ?? storage.get(KEYS.room);
      const room = checkRoom(wanted ?? DEFAULT_ROOM);
      this.room = room.ok ? room.value : DEFAULT_ROOM;
      if (params.room !== undefined && !room.ok) {
        this.list.addNotice(`"${params.room}" is not a room name, so you are in #${DEFAULT_ROOM}.`, 'error');
      }
    }
    this.wire();
    this.render();
  }

  // ---- start-up ---------------------------------------------------------------------------------------

  async boot(): Promise<void> {
    this.setStatus('connecting', 'Loading…');
    let config: ClientConfig;
    try {
      config = await loadConfig(this.params, window.location.href);
    } catch (error) {
      this.setStatus('offline', 'Not configured');
      this.showBanner(error instanceof Error ? error.message : String(error), 'Try again', () => {
        this.hideBanner();
        void this.boot();
      });
      return;
    }
    if (config.authRequired && this.token === undefined) {
      this.inviteOnly = true;
      this.render();
      this.setStatus('offline', 'Invitation required');
      this.showBanner(
        'This chat is invite-only. Open it with your invitation link (it contains “?token=…”) to join.',
      );
      this.setComposerEnabled(false, 'You need an invitation to write here');
      return;
    }
    this.connection = new Connection(
      config.wsUrl,
      eventsUrlFor(config.wsUrl),
      config.heartbeatSeconds * 1000,
      {
        protocols: () =>
          connectProtocols(this.token ? { token: this.token } : { room: this.room, nick: this.nick }),
        connecting: () => this.onConnecting(),
        open: () => this.sendJoin(this.room, true),
        envelope: (envelope) => this.onEnvelope(envelope),
        closed: (info) => this.onClosed(info),
      },
    );
    if (this.nick === undefined && this.token === undefined) this.askForNick();
    else this.connection.start();
  }

  private askForNick(): void {
    this.setStatus('offline', 'Not joined yet');
    dom.welcomeRoom.value = this.room;
    dom.welcome.showModal();
    dom.welcomeNick.focus();
  }

  // ---- connection events ------------------------------------------------------------------------------

  private onConnecting(): void {
    if (this.everJoined) this.setStatus('reconnecting', 'Reconnecting…');
    else this.setStatus('connecting', 'Connecting…');
  }

  private onClosed(info: CloseInfo): void {
    this.joined = false;
    this.joinRef = undefined;
    for (const item of this.outgoing.values()) {
      if (item.state !== 'sending') continue;
      // It may or may not have gone through: the history after the next join tells.
      window.clearTimeout(item.timer);
      item.state = 'unconfirmed';
      item.row.setReceipt({ state: 'queued' });
    }
    const seconds = Math.max(1, Math.round(info.delayMs / 1000));
    const expiry = this.claims?.exp;
    if (!info.opened && expiry !== undefined && expiry * 1000 <= Date.now()) {
      this.stopped = true;
      this.connection?.stop();
      this.setStatus('offline', 'Invitation expired');
      this.showBanner('Your invitation link has expired. Ask for a new one to rejoin.');
      this.setComposerEnabled(false, 'Your invitation has expired');
      return;
    }
    if (!navigator.onLine) {
      this.setStatus('offline', 'Offline');
      this.showBanner('You are offline. The chat reconnects when the network is back.');
      return;
    }
    this.setStatus('reconnecting', this.everJoined ? 'Reconnecting…' : 'Can’t connect');
    if (!info.opened && info.failures >= 2) {
      const why =
        this.token !== undefined
          ? 'Can’t connect: the server refused or is unreachable (your invitation may be invalid).'
          : 'Can’t reach the chat server.';
      this.showBanner(`${why} Next try in ${seconds} s.`, 'Retry now', () => this.connection?.retryNow());
    } else if (this.everJoined) {
      this.showBanner(`Connection lost. Reconnecting in ${seconds} s…`, 'Retry now', () =>
        this.connection?.retryNow(),
      );
    }
  }

  private sendJoin(room: string, onConnect: boolean): void {
    const ref = this.nextRef('join');
    // The cursor only applies to the room we are in: a switch starts from that room's latest history.
    const since = onConnect && room === this.room ? this.lastId : undefined;
    this.joinRef = ref;
    this.joinSince = since;
    this.connection?.send({ type: 'join', room, ...(since === undefined ? {} : { since }), ref });
  }

  private onEnvelope(envelope: ServerEnvelope): void {
    switch (envelope.type) {
      case 'message':
        return this.onMessage(envelope);
      case 'presence':
        if (envelope.room !== this.room) return;
        this.setOnline(envelope.online);
        return this.list.addPresence(this.presenceText(envelope), envelope.ts, hueOf(envelope.nick));
      case 'history':
        return this.onHistory(envelope);
      case 'ack':
        if (envelope.for === 'message') return this.onMessageAck(envelope);
        if (envelope.for === 'join') return this.onJoinAck(envelope);
        return this.onNickAck(envelope);
      case 'error':
        return this.onError(envelope);
      case 'pong':
        return;
    }
  }

  private presenceText(event: Extract<ServerEnvelope, { type: 'presence' }>): string {
    const who = `${event.nick} #${event.tag}`;
    if (event.event === 'join') return `${who} joined`;
    if (event.event === 'leave') return `${who} left`;
    return `${event.previous ?? 'someone'} is now ${who}`;
  }

  private onMessage(message: ChatMessage & { online: number }): void {
    if (message.room !== this.room) return;
    this.setOnline(message.online);
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.noteId(message.id);
    this.list.addMessage(message, this.isOwn(message));
    if (document.visibilityState === 'hidden') {
      this.unread += 1;
      this.renderTitle();
    }
  }

  private onHistory(history: Extract<ServerEnvelope, { type: 'history' }>): void {
    if (history.room !== this.room) return;
    const answersJoin = history.ref !== undefined && history.ref === this.joinRef;
    const catchUp = answersJoin && this.joinSince !== undefined;
    this.list.batch(() => {
      if (answersJoin && !catchUp && !history.more) {
        this.list.addIntro(`This is the start of #${history.room}.`);
      }
      for (const message of history.messages) {
        if (this.seen.has(message.id)) continue;
        this.seen.add(message.id);
        this.noteId(message.id);
        if (this.adopt(message)) continue;
        this.list.addMessage(message, this.isOwn(message));
      }
      if (catchUp && history.more) {
        this.list.addNotice('You missed more messages than can be shown; these are the latest.', 'info');
      }
    });
    if (answersJoin) {
      this.joinRef = undefined;
      this.pump();
    }
  }

  /** A message sent just before the socket closed, found in history: it did go through. */
  private adopt(message: ChatMessage): boolean {
    if (message.from !== this.nick) return false;
    for (const item of this.outgoing.values()) {
      if (item.state !== 'unconfirmed' || item.text !== message.text) continue;
      this.outgoing.delete(item.ref);
      item.row.confirm(message.id, message.ts);
      item.row.setReceipt({ state: 'delivered' });
      return true;
    }
    return false;
  }

  private onJoinAck(ack: IdentityAck): void {
    if (ack.ref === undefined && this.joined) {
      // Unasked: the server lost this connection's record (silent past its TTL) and re-created it in the
      // default room. Connecting afresh registers us again with our own name and room.
      if (ack.room !== this.room || ack.nick !== this.nick) this.connection?.restart();
      return;
    }
    if (ack.ref !== this.joinRef) return;
    if (ack.room !== this.room) {
      // A new room: a fresh list, and nothing half-sent from the old room is carried over.
      this.room = ack.room;
      this.lastId = undefined;
      this.seen.clear();
      for (const item of this.outgoing.values()) window.clearTimeout(item.timer);
      this.outgoing.clear();
      this.list.clear();
      this.closeMenu();
      dom.input.focus();
    }
    this.nick = ack.nick;
    this.tag = ack.tag;
    this.rememberOwn(ack.tag, ack.nick);
    if (this.token === undefined) {
      storage.set(KEYS.room, this.room);
      storage.set(KEYS.nick, this.nick);
    }
    this.rememberRoom(this.room);
    this.joined = true;
    this.everJoined = true;
    this.connection?.healthy();
    this.hideBanner();
    this.setStatus('online', this.onlineText());
    this.setOnline(ack.online);
    this.render();
  }

  private onNickAck(ack: IdentityAck): void {
    const mine = ack.ref !== undefined && ack.ref === this.nickRef;
    const previous = this.nick;
    this.nick = ack.nick;
    this.tag = ack.tag;
    this.rememberOwn(ack.tag, ack.nick);
    storage.set(KEYS.nick, ack.nick);
    this.setOnline(ack.online);
    if (mine) {
      this.nickRef = undefined;
      dom.nickSave.disabled = false;
      if (previous !== ack.nick) this.list.addNotice(`You are now ${ack.nick}.`, 'info');
      this.closeMenu();
    }
    this.render();
  }

  private onMessageAck(ack: Extract<ServerEnvelope, { type: 'ack'; for: 'message' }>): void {
    const item = ack.ref === undefined ? undefined : this.outgoing.get(ack.ref);
    this.setOnline(ack.online);
    if (!item) return;
    window.clearTimeout(item.timer);
    this.outgoing.delete(item.ref);
    this.pump();
    this.seen.add(ack.id);
    this.noteId(ack.id);
    item.row.confirm(ack.id, Number(item.row.element.dataset.ts));
    item.row.setReceipt({
      state: 'delivered',
      delivered: ack.delivered,
      failed: ack.failed,
      stored: ack.stored,
    });
  }

  private onError(error: ErrorEnvelope): void {
    const ref = error.ref;
    const item = ref === undefined ? this.guessFailed(error) : this.outgoing.get(ref);
    if (item) return this.failMessage(item, error.message, error.code);
    if (ref !== undefined && ref === this.nickRef) {
      this.nickRef = undefined;
      dom.nickSave.disabled = false;
      showFieldError(dom.nickError, dom.nickInput, error.message);
      this.list.addNotice(error.message, 'error', 'Nickname not changed.');
      return;
    }
    if (ref !== undefined && ref === this.joinRef) {
      this.joinRef = undefined;
      if (error.code === 'invalid_room') showFieldError(dom.roomError, dom.roomInput, error.message);
      // The socket works even if the join did not: do not leave the page stuck on "connecting".
      if (!this.joined) {
        this.joined = true;
        this.setStatus('online', this.onlineText());
        this.pump();
      }
    }
    this.list.addNotice(error.message, 'error', `${this.errorTitle(error.code)}.`);
  }

  /** Some errors (rate limiting of whole frames) come without a ref: they belong to the oldest send. */
  private guessFailed(error: ErrorEnvelope): Outgoing | undefined {
    if (error.code !== 'rate_limited' && error.code !== 'too_large') return undefined;
    for (const item of this.outgoing.values()) if (item.state === 'sending') return item;
    return undefined;
  }

  private errorTitle(code: string): string {
    const titles: Record<string, string> = {
      too_large: 'Message too long',
      rate_limited: 'Slow down',
      invalid_nick: 'Invalid nickname',
      invalid_room: 'Invalid room',
      binary_unsupported: 'Unsupported message',
      store_unavailable: 'Chat storage unavailable',
      empty_message: 'Empty message',
    };
    return titles[code] ?? 'Server error';
  }

  // ---- sending ----------------------------------------------------------------------------------------

  private sendMessage(text: string): void {
    const row = this.list.addPending(this.nick ?? 'You', this.tag ?? '', text);
    const item: Outgoing = { ref: this.nextRef('m'), text, row, state: 'queued' };
    this.outgoing.set(item.ref, item);
    // Behind another message it is on its way too; without a connection it waits for one.
    row.setReceipt({ state: this.joined ? 'sending' : 'queued' });
    this.pump();
  }

  /**
   * Sends the oldest waiting message once the one before it is answered. The gateway may run two frames of one
   * connection in parallel function instances, so frames sent back to back can reach the room in either order;
   * one message in flight at a time keeps a sender's messages in the order they were written.
   */
  private pump(): void {
    if (!this.joined) return;
    let next: Outgoing | undefined;
    for (const item of this.outgoing.values()) {
      if (item.state === 'sending') return;
      if (!next && (item.state === 'queued' || item.state === 'unconfirmed')) next = item;
    }
    if (next) this.transmit(next);
  }

  private transmit(item: Outgoing): void {
    window.clearTimeout(item.timer);
    if (!this.connection?.send({ type: 'message', text: item.text, ref: item.ref })) {
      item.state = 'queued';
      item.row.setReceipt({ state: 'queued' });
      return;
    }
    item.state = 'sending';
    item.row.setReceipt({ state: 'sending' });
    item.timer = window.setTimeout(() => {
      if (item.state === 'sending') this.failMessage(item, 'the server did not confirm it', 'timeout');
    }, ACK_TIMEOUT_MS);
  }

  private failMessage(item: Outgoing, reason: string, code: string): void {
    window.clearTimeout(item.timer);
    // Kept under its ref while waiting for a retry: a late ack still confirms it.
    item.state = 'failed';
    item.row.setReceipt({
      state: 'failed',
      reason,
      retry: RETRYABLE.has(code)
        ? () => {
            this.outgoing.delete(item.ref);
            const again: Outgoing = { ...item, ref: this.nextRef('m'), state: 'queued' };
            this.outgoing.set(again.ref, again);
            again.row.requeue();
            again.row.setReceipt({ state: this.joined ? 'sending' : 'queued' });
            this.pump();
          }
        : undefined,
    });
    this.pump();
  }

  private changeNick(value: string): void {
    const checked = checkNick(value);
    if (!checked.ok) return showFieldError(dom.nickError, dom.nickInput, checked.reason);
    showFieldError(dom.nickError, dom.nickInput, undefined);
    if (checked.value === this.nick) return this.closeMenu();
    if (this.joined) {
      this.nickRef = this.nextRef('nick');
      dom.nickSave.disabled = true;
      this.connection?.send({ type: 'nick', nick: checked.value, ref: this.nickRef });
      return;
    }
    // Not connected: the next connection introduces us under the new name.
    this.nick = checked.value;
    storage.set(KEYS.nick, checked.value);
    this.list.addNotice(`You will join as ${checked.value}.`, 'info');
    this.render();
    this.closeMenu();
  }

  private switchRoom(value: string): void {
    const checked = checkRoom(value);
    if (!checked.ok) return showFieldError(dom.roomError, dom.roomInput, checked.reason);
    showFieldError(dom.roomError, dom.roomInput, undefined);
    dom.roomInput.value = '';
    if (checked.value === this.room) return this.closeMenu();
    if (this.joined) return this.sendJoin(checked.value, false);
    // Not connected: switch locally; the next connection opens in the new room.
    this.room = checked.value;
    this.lastId = undefined;
    this.seen.clear();
    this.outgoing.clear();
    this.list.clear();
    storage.set(KEYS.room, this.room);
    this.rememberRoom(this.room);
    this.render();
    this.closeMenu();
  }

  // ---- own messages, rooms, ids -----------------------------------------------------------------------

  private nextRef(kind: string): string {
    this.refSeq += 1;
    return `${kind}-${this.refPrefix}-${this.refSeq}`;
  }

  private noteId(id: string): void {
    if (this.lastId === undefined || id > this.lastId) this.lastId = id;
  }

  /** Tags are per connection, so own messages from earlier connections are recognised by tag and nick. */
  private isOwn(message: ChatMessage): boolean {
    return message.source !== 'api' && this.ownKeys.has(`${message.tag}:${message.from}`);
  }

  private rememberOwn(tag: string, nick: string): void {
    const key = `${tag}:${nick}`;
    if (this.ownKeys.has(key)) return;
    this.ownKeys.add(key);
    storage.setList(KEYS.own, [...this.ownKeys].slice(-MAX_OWN_KEYS));
  }

  private rememberRoom(room: string): void {
    if (this.token !== undefined) return;
    const rooms = [room, ...storage.getList(KEYS.rooms).filter((r) => r !== room)].slice(0, MAX_RECENT_ROOMS);
    storage.setList(KEYS.rooms, rooms);
    const url = new URL(window.location.href);
    if (url.searchParams.get('room') !== room) {
      url.searchParams.set('room', room);
      window.history.replaceState(null, '', url.toString());
    }
  }

  // ---- rendering --------------------------------------------------------------------------------------

  /** Says when the page talks over the HTTP fallback (server-sent events and POSTs) instead of a WebSocket. */
  private onlineText(): string {
    return this.connection?.transport === 'sse' ? 'Online (HTTP fallback)' : 'Online';
  }

  private setStatus(state: Status, text: string): void {
    dom.status.dataset.state = state;
    dom.statusText.textContent = text;
    document.documentElement.dataset.connection = state;
  }

  private setOnline(count: number): void {
    dom.online.dataset.count = String(count);
    dom.onlineText.textContent = `${count} online`;
  }

  private showBanner(text: string, action?: string, onAction?: () => void): void {
    dom.bannerText.textContent = text;
    dom.banner.hidden = false;
    dom.bannerAction.hidden = action === undefined;
    dom.bannerAction.textContent = action ?? '';
    dom.bannerAction.onclick = onAction ?? null;
  }

  private hideBanner(): void {
    dom.banner.hidden = true;
  }

  private setComposerEnabled(enabled: boolean, placeholder?: string): void {
    dom.input.disabled = !enabled;
    if (placeholder !== undefined) dom.input.placeholder = placeholder;
    dom.send.disabled = !enabled || dom.input.value.trim() === '';
  }

  private renderTitle(): void {
    document.title = `${this.unread > 0 ? `(${this.unread}) ` : ''}#${this.room} · wschat`;
  }

  private render(): void {
    dom.roomLabel.textContent = this.room;
    if (!dom.input.disabled) dom.input.placeholder = `Message #${this.room}`;
    const nick = this.nick ?? 'Guest';
    dom.meNick.textContent = nick;
    dom.meTag.textContent = this.tag ? `#${this.tag}` : '';
    dom.meTag.title = 'Your connection tag: tells people with the same name apart';
    dom.meAvatar.textContent = initialOf(nick);
    dom.meAvatar.style.setProperty('--hue', String(hueOf(nick)));
    if (document.activeElement !== dom.nickInput) dom.nickInput.value = this.nick ?? '';
    const locked = this.token !== undefined || this.inviteOnly;
    dom.nickInput.disabled = locked;
    dom.nickSave.disabled = locked || this.nickRef !== undefined;
    dom.roomInput.disabled = locked;
    dom.roomJoin.disabled = locked;
    dom.identityNote.hidden = !locked;
    // Invitations with tokens are issued by a backend; a plain link only makes sense for open chats.
    dom.invite.hidden = locked || navigator.clipboard === undefined;
    dom.inviteRoom.textContent = `#${this.room}`;
    const rooms = locked ? [this.room] : storage.getList(KEYS.rooms);
    if (!rooms.includes(this.room)) rooms.unshift(this.room);
    dom.roomList.replaceChildren(
      ...rooms.map((room) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'room-link';
        button.dataset.room = room;
        const hash = document.createElement('span');
        hash.className = 'hash';
        hash.setAttribute('aria-hidden', 'true');
        hash.textContent = '#';
        button.append(hash, document.createTextNode(room));
        if (room === this.room) button.setAttribute('aria-current', 'page');
        button.disabled = locked && room !== this.room;
        button.addEventListener('click', () => this.switchRoom(room));
        li.append(button);
        return li;
      }),
    );
    this.renderTitle();
  }

  private flashButton(button: HTMLButtonElement, text: string): void {
    const original = button.dataset.label ?? button.textContent ?? '';
    button.dataset.label = original;
    button.textContent = text;
    window.setTimeout(() => (button.textContent = original), 2000);
  }

  private closeMenu(): void {
    dom.app.classList.remove('menu-open');
    dom.scrim.hidden = true;
    dom.menuButton.setAttribute('aria-expanded', 'false');
  }

  private wire(): void {
    dom.menuButton.addEventListener('click', () => {
      const open = !dom.app.classList.contains('menu-open');
      dom.app.classList.toggle('menu-open', open);
      dom.scrim.hidden = !open;
      dom.menuButton.setAttribute('aria-expanded', String(open));
      if (open) dom.nickInput.focus();
    });
    dom.scrim.addEventListener('click', () => this.closeMenu());
    dom.inviteCopy.addEventListener('click', () => {
      const url = new URL(window.location.href);
      url.search = '';
      url.hash = '';
      url.searchParams.set('room', this.room);
      if (this.params.ws !== undefined) url.searchParams.set('ws', this.params.ws);
      navigator.clipboard.writeText(url.toString()).then(
        () => this.flashButton(dom.inviteCopy, 'Link copied'),
        () => this.flashButton(dom.inviteCopy, 'Could not copy'),
      );
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && dom.app.classList.contains('menu-open')) {
        this.closeMenu();
        dom.menuButton.focus();
      }
    });

    dom.nickForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.changeNick(dom.nickInput.value);
    });
    dom.roomForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.switchRoom(dom.roomInput.value);
    });

    const autosize = () => {
      dom.input.style.height = 'auto';
      dom.input.style.height = `${Math.min(dom.input.scrollHeight, 168)}px`;
      dom.send.disabled = dom.input.disabled || dom.input.value.trim() === '';
    };
    dom.input.addEventListener('input', autosize);
    dom.input.addEventListener('keydown', (event) => {
      // isComposing: Enter also confirms an IME candidate (Chinese, Japanese...), which must not send.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        dom.composer.requestSubmit();
      }
    });
    dom.composer.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.stopped) return;
      const text = dom.input.value.replace(/\s+$/, '');
      if (text.trim() === '') return;
      dom.input.value = '';
      autosize();
      this.sendMessage(text);
      dom.input.focus();
    });

    dom.welcome.addEventListener('cancel', (event) => event.preventDefault());
    dom.welcomeForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const nick = checkNick(dom.welcomeNick.value);
      const room = checkRoom(dom.welcomeRoom.value || DEFAULT_ROOM);
      if (!nick.ok) return showFieldError(dom.welcomeError, dom.welcomeNick, nick.reason);
      if (!room.ok) return showFieldError(dom.welcomeError, dom.welcomeRoom, room.reason);
      showFieldError(dom.welcomeError, dom.welcomeNick, undefined);
      this.nick = nick.value;
      this.room = room.value;
      storage.set(KEYS.nick, nick.value);
      storage.set(KEYS.room, room.value);
      dom.welcome.close();
      this.render();
      this.connection?.start();
      dom.input.focus();
    });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.unread > 0) {
        this.unread = 0;
        this.renderTitle();
      }
    });
  }
}

const app = new ChatApp(readParams(window.location.search));
void app.boot();
