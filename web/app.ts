import { connectProtocols, IDENTITY_KEY, newIdentityKey, type ChatMessage } from '../code/chat/protocol';
import type { PresenceFrame } from '../code/client/envelope';
import { ClientSession, type SendUpdate, type SessionEvent } from '../code/client/session';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  eventsUrlFor,
  loadConfig,
  readParams,
  type ClientConfig,
  type PageParams,
} from './config';
import { Connection, type CloseInfo } from './connection';
import { sseQuery } from '../code/client/sse-query';
import { badgeText, RecentRooms } from '../code/client/recent-rooms';
import { TypingNotice } from './typing-notice';
import { UnreadBadges, type Timers } from './unread-badges';
import { avatar, MessageList, type MessageRow } from './view';
import {
  checkNick,
  checkRoom,
  DEFAULT_ROOM,
  hueOf,
  initialOf,
  readTokenClaims,
  storage,
  tabStorage,
  utf8Length,
  type TokenClaims,
} from './util';

/** The chat page: wires the connection, the message list and the forms together. */

const KEYS = {
  nick: 'wschat.nick',
  room: 'wschat.room',
  own: 'wschat.own',
  identity: 'wschat.identity',
};
const MAX_OWN_KEYS = 100;
/** An own message without an ack after this long is shown as failed, with a retry. */
const ACK_TIMEOUT_MS = 15_000;
/** The catch-up (join, then history pages) gives up waiting after this long and shows what it has. */
const SYNC_TIMEOUT_MS = 20_000;

const browserTimers: Timers = {
  now: Date.now,
  after(ms, run) {
    const timer = window.setTimeout(run, ms);
    return () => window.clearTimeout(timer);
  },
};

type Status = 'connecting' | 'online' | 'reconnecting' | 'offline';

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
  menuUnread: byId('menu-unread', HTMLSpanElement),
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
  online: byId('online', HTMLButtonElement),
  members: byId('members', HTMLElement),
  membersClose: byId('members-close', HTMLButtonElement),
  memberList: byId('member-list', HTMLUListElement),
  membersNote: byId('members-note', HTMLParagraphElement),
  membersMore: byId('members-more', HTMLButtonElement),
  onlineText: byId('online-text', HTMLSpanElement),
  status: byId('status', HTMLDivElement),
  statusText: byId('status-text', HTMLSpanElement),
  banner: byId('banner', HTMLDivElement),
  bannerText: byId('banner-text', HTMLSpanElement),
  bannerAction: byId('banner-action', HTMLButtonElement),
  messages: byId('messages', HTMLOListElement),
  jump: byId('jump', HTMLButtonElement),
  typing: byId('typing', HTMLParagraphElement),
  composer: byId('composer', HTMLFormElement),
  watchBar: byId('watch-bar', HTMLDivElement),
  watchRoom: byId('watch-room', HTMLElement),
  pickName: byId('pick-name', HTMLButtonElement),
  welcomeWatch: byId('welcome-watch', HTMLButtonElement),
  input: byId('message-input', HTMLTextAreaElement),
  send: byId('send', HTMLButtonElement),
  composerLimit: byId('composer-limit', HTMLParagraphElement),
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
  private readonly session: ClientSession;
  /** This tab's prefix of message ids (cids): what carries it is ours, whatever our nick or tag was then. */
  private readonly clientId: string;
  private readonly identityKey: string;
  private nick: string | undefined;
  private room: string;
  private tag: string | undefined;
  private everJoined = false;
  private renaming = false;
  private askingWhy = false;
  private eventsUrl: string | undefined;
  private maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  /** The most rooms one unread request may name (config.json `unreadRooms`). */
  private unreadRooms: number | undefined;
  /** Own messages on screen by cid, while the server has not settled them. */
  private readonly rows = new Map<string, MessageRow>();
  private readonly ownKeys: Set<string>;
  private unread = 0;
  private stopped = false;
  /** The server wants a token and the page has none: nothing to edit, nothing to send. */
  private inviteOnly = false;
  /**
   * No name chosen yet: the page still connects (the server admits it as a guest) and shows the room live, but
   * the composer waits until a name is picked. The guest name is never remembered.
   */
  private watching = false;
  /** The name a watcher picked is on its way to the server (a refusal sends them back to watching). */
  private picking = false;
  /** The cursor of the member list's next page, while there is one. */
  private membersNext: string | undefined;
  private readonly recent = new RecentRooms(storage);
  private readonly unreadBadges = new UnreadBadges(
    () => this.session.requestUnread(this.recent.unreadRequest(this.room, this.unreadRooms)),
    () => this.render(),
    browserTimers,
  );
  private readonly typingNotice = new TypingNotice(dom.typing, browserTimers);

  constructor(private readonly params: PageParams) {
    this.token = params.token;
    this.claims = this.token === undefined ? undefined : readTokenClaims(this.token);
    this.ownKeys = new Set(tabStorage.getList(KEYS.own));
    // Per page load: a tab duplicated from this one (which copies sessionStorage) is another person.
    this.clientId = Math.random().toString(36).slice(2, 10);
    // The identity key keeps this person's #tag across reconnects and reloads; per tab, as the nick is.
    const key = tabStorage.get(KEYS.identity);
    this.identityKey = key !== undefined && IDENTITY_KEY.test(key) ? key : newIdentityKey();
    tabStorage.set(KEYS.identity, this.identityKey);
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
    this.session = this.createSession();
    this.wire();
    this.render();
  }

  /** What this tab offers at connect: its token, or its room, nick and identity key. */
  private protocols(): string[] {
    if (this.token) return connectProtocols({ token: this.token });
    return connectProtocols({ ...this.session.connectOptions(), key: this.identityKey });
  }

  private createSession(): ClientSession {
    return new ClientSession(
      {
        room: this.room,
        nick: this.nick,
        tokenHolder: this.token !== undefined,
        ackTimeoutMs: ACK_TIMEOUT_MS,
        syncTimeoutMs: SYNC_TIMEOUT_MS,
        // The page paces by its one-in-flight queue; the server's limit answers anything faster.
        ratePerSecond: 1000,
        burst: 1000,
        clientId: this.clientId,
      },
      {
        send: (frame) => void this.connection?.send(frame),
        emit: (event) => this.onSessionEvent(event),
        now: Date.now,
        setTimer: browserTimers.after,
      },
    );
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
    this.eventsUrl = eventsUrlFor(config.wsUrl);
    this.maxMessageBytes = config.maxMessageBytes;
    const { typingIntervalSeconds, unreadIntervalSeconds, unreadRooms } = config.limits;
    this.unreadRooms = unreadRooms;
    if (typingIntervalSeconds !== undefined) {
      this.session.useTypingInterval(typingIntervalSeconds * 1000);
      this.typingNotice.useInterval(typingIntervalSeconds * 1000);
    }
    if (unreadIntervalSeconds !== undefined) this.unreadBadges.useInterval(unreadIntervalSeconds * 1000);
    this.unreadBadges.startPeriodic(() => document.visibilityState === 'visible');
    this.connection = new Connection(config.wsUrl, this.eventsUrl, config.heartbeatSeconds * 1000, {
      protocols: () => this.protocols(),
      connecting: () => this.onConnecting(),
      open: () => this.session.opened(),
      frame: (value) => this.session.receivedParsed(value),
      closed: (info) => this.onClosed(info),
    });
    if (this.nick === undefined && this.token === undefined) this.setWatching(true);
    this.connection.start();
  }

  private setWatching(watching: boolean): void {
    this.watching = watching;
    dom.app.classList.toggle('watching', watching);
    dom.watchBar.hidden = !watching;
    dom.input.disabled = watching;
  }

  private askForNick(): void {
    dom.welcomeRoom.value = this.room;
    dom.welcome.showModal();
    dom.welcomeNick.focus();
  }

  /** A watcher picked a name: the open connection takes it (`nick`), so what is shown stays. */
  private pickName(nick: string, room: string): void {
    this.nick = nick;
    this.picking = this.session.isConnected;
    this.session.setNick(nick);
    this.setWatching(false);
    if (room !== this.room) this.switchRoom(room);
    this.render();
  }

  // ---- connection events ------------------------------------------------------------------------------

  private onConnecting(): void {
    if (this.everJoined) this.setStatus('reconnecting', 'Reconnecting…');
    else this.setStatus('connecting', 'Connecting…');
  }

  private onClosed(info: CloseInfo): void {
    this.session.closed();
    this.typingNotice.clear();
    // Nobody is known to be online while we are not: the count comes back with the next join.
    this.clearOnline();
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
    if (!info.opened && info.failures >= 2) void this.askWhyRefused();
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

  /**
   * A browser hides why a WebSocket handshake failed. The gateway's HTTP fallback answers the same admission
   * with a status and its reason, so after repeated failures the page asks there once: a refusal that retrying
   * cannot fix (a bad or expired invitation, a refused name) stops the page, with the reason, instead of retrying
   * for ever. An admitted stream (the failure was elsewhere) is closed at once; it sent nothing, so the room hears
   * nothing of it (the gateway's close event says `silent`).
   */
  private async askWhyRefused(): Promise<void> {
    if (this.askingWhy || this.eventsUrl === undefined || this.stopped) return;
    this.askingWhy = true;
    const controller = new AbortController();
    try {
      const protocols = this.protocols();
      const query = sseQuery(protocols).toString();
      const response = await fetch(`${this.eventsUrl}${query ? `?${query}` : ''}`, {
        signal: controller.signal,
        cache: 'no-store',
      });
      if (response.status !== 403 && response.status !== 400) return;
      const body = (await response.json().catch(() => ({}))) as { errMsg?: unknown };
      const reason = typeof body.errMsg === 'string' ? body.errMsg : `HTTP ${response.status}`;
      // Refusals the server will repeat: the token, or the name or room it was asked for.
      if (!/^(unauthorized|invalid)\b/.test(reason)) return;
      this.stopped = true;
      this.connection?.stop();
      const invitation = this.token !== undefined;
      this.setStatus('offline', invitation ? 'Invitation not accepted' : 'Not accepted');
      this.showBanner(
        invitation
          ? `The server did not accept your invitation link (${reason}). Ask for a new one.`
          : `The server refused to connect you (${reason}).`,
      );
      this.setComposerEnabled(false, invitation ? 'Your invitation was not accepted' : 'Not connected');
    } catch {
      // Unreachable as well: keep retrying.
    } finally {
      controller.abort();
      this.askingWhy = false;
    }
  }

  // ---- what the session reports -----------------------------------------------------------------------

  private onSessionEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'joined':
        return this.onJoined(event);
      case 'renamed':
        return this.onRenamed(event.nick, event.tag);
      case 'ready':
        this.everJoined = true;
        this.connection?.healthy();
        this.hideBanner();
        this.setStatus('online', this.onlineText());
        this.rememberSeen();
        this.unreadBadges.refresh();
        return;
      case 'messages':
        return this.onMessages(event);
      case 'gap':
        this.list.addNotice(
          'Some messages you missed are older than history keeps, so they cannot be shown.',
          'info',
        );
        return;
      case 'send':
        return this.onSend(event.update);
      case 'presence': {
        const text = this.presenceText(event.presence);
        if (text !== undefined) {
          this.list.addPresence(text, event.presence.ts ?? Date.now(), hueOf(event.presence.nick ?? ''));
        }
        return;
      }
      case 'online':
        return this.setOnline(event.count);
      case 'error':
        return this.onError(event);
      case 'reconnect':
        // restart() closes without a `closed` callback: the session must still learn the connection is gone.
        this.session.closed();
        this.connection?.restart();
        return;
      case 'notice':
        this.list.addNotice(`${event.text[0]!.toUpperCase()}${event.text.slice(1)}.`, 'info');
        return;
      case 'members':
        return this.onMembers(event);
      case 'unread':
        return this.unreadBadges.answered(event.rooms);
      case 'typing':
        return this.typingNotice.typing(event.nick, event.tag);
      case 'history':
        return;
    }
  }

  private onJoined(event: Extract<SessionEvent, { type: 'joined' }>): void {
    if (event.switched) {
      // A new room: a fresh list.
      this.list.clear();
      this.rows.clear();
      this.typingNotice.clear();
      this.closeMenu();
      this.closeMembers();
      dom.input.focus();
    }
    this.room = event.room;
    this.unreadBadges.read(this.room);
    this.nick = event.nick;
    this.tag = event.tag;
    this.rememberOwn(event.tag, event.nick);
    if (this.token === undefined) {
      storage.set(KEYS.room, this.room);
      if (!this.watching) storage.set(KEYS.nick, this.nick);
    }
    this.rememberRoom(this.room);
    this.render();
    // The room left is another room now, and its last seen id is remembered: its count starts from there.
    if (event.switched) this.unreadBadges.refresh();
  }

  private onRenamed(nick: string, tag: string): void {
    // A watcher renamed from the sidebar has picked a name too.
    if (this.watching) this.setWatching(false);
    this.picking = false;
    const previous = this.nick;
    this.nick = nick;
    this.tag = tag;
    this.rememberOwn(tag, nick);
    storage.set(KEYS.nick, nick);
    if (this.renaming) {
      this.renaming = false;
      if (previous !== nick) this.list.addNotice(`You are now ${nick}.`, 'info');
      this.closeMenu();
    }
    this.render();
  }

  private presenceText(event: PresenceFrame): string | undefined {
    if (event.nick === undefined || event.tag === undefined) return undefined;
    const who = `${event.nick} #${event.tag}`;
    if (event.event === 'join') return `${who} joined`;
    if (event.event === 'leave') return `${who} left`;
    if (event.event === 'nick') return `${event.previous ?? 'someone'} is now ${who}`;
    // An event this page does not know (a batch, say): the online count it carried is shown already.
    return undefined;
  }

  private onMessages(event: Extract<SessionEvent, { type: 'messages' }>): void {
    const { messages, place } = event;
    if (place === 'older') {
      this.list.addOlder(messages, (message) => this.isOwn(message));
      return this.showOlderState(event.more === true);
    }
    this.rememberSeen();
    this.list.batch(() => {
      for (const message of messages) {
        this.typingNotice.stopped(message.from, message.tag);
        // Our own message, sent from this tab: the pending row takes its place in order.
        const row = message.cid === undefined ? undefined : this.rows.get(message.cid);
        if (row) {
          row.confirm(message.id, message.ts);
          row.setReceipt({ state: 'delivered' });
          this.rows.delete(message.cid!);
          continue;
        }
        this.list.addMessage(message, this.isOwn(message));
      }
    });
    if (place === 'first') this.showOlderState(event.more === true);
    if (place === 'live' && document.visibilityState === 'hidden') {
      this.unread += messages.length;
      this.renderTitle();
    }
  }

  /** The top of the list: a "load older" button while older messages are kept, else the room's start. */
  private showOlderState(more: boolean): void {
    if (more) this.list.showLoadOlder(() => this.session.loadOlder());
    else this.list.addIntro(`This is the start of #${this.room}.`);
  }

  private onSend(update: SendUpdate): void {
    let row = this.rows.get(update.cid);
    if (!row) {
      if (update.state !== 'queued' && update.state !== 'sending') return;
      row = this.list.addPending(this.nick ?? 'You', this.tag ?? '', update.text);
      this.rows.set(update.cid, row);
    }
    switch (update.state) {
      case 'queued':
        row.setReceipt({ state: this.session.isReady ? 'sending' : 'queued' });
        return;
      case 'sending':
        row.setReceipt({ state: 'sending' });
        return;
      case 'delivered':
        this.rememberSeen();
        this.rows.delete(update.cid);
        row.confirm(update.id ?? '', update.ts ?? Number(row.element.dataset.ts));
        row.setReceipt({
          state: 'delivered',
          delivered: update.delivered,
          failed: update.failed,
          stored: update.stored,
        });
        return;
      case 'failed': {
        const pending = row;
        pending.setReceipt({
          state: 'failed',
          reason: update.reason ?? 'not sent',
          retry: update.retryable
            ? () => {
                pending.requeue();
                this.session.retry(update.cid);
              }
            : undefined,
        });
        if (!update.retryable) this.rows.delete(update.cid);
        return;
      }
    }
  }

  // ---- the member list --------------------------------------------------------------------------------

  /** One page at a time (the server allows a page per 2 s): "More" asks for the next, nothing loads by itself. */
  private openMembers(): void {
    dom.members.hidden = false;
    dom.online.setAttribute('aria-expanded', 'true');
    dom.memberList.replaceChildren();
    this.membersNext = undefined;
    dom.membersMore.hidden = true;
    this.askMembers(undefined);
  }

  private closeMembers(): void {
    dom.members.hidden = true;
    dom.online.setAttribute('aria-expanded', 'false');
  }

  private askMembers(after: string | undefined): void {
    const asked = this.session.requestMembers(after);
    dom.membersMore.disabled = true;
    this.setMembersNote(asked ? 'Loading…' : 'Not connected: the list shows once the chat is online.');
  }

  private onMembers(event: Extract<SessionEvent, { type: 'members' }>): void {
    if (dom.members.hidden || event.room !== this.room) return;
    dom.memberList.append(
      ...event.members.map((member) => {
        const li = document.createElement('li');
        const nick = document.createElement('span');
        nick.className = 'nick';
        nick.textContent = member.nick;
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = `#${member.tag}`;
        const self = member.tag === this.tag ? document.createElement('span') : undefined;
        if (self) {
          self.className = 'tag';
          self.textContent = '(you)';
        }
        li.append(avatar(member.nick), nick, tag, ...(self ? [self] : []));
        return li;
      }),
    );
    this.membersNext = event.next;
    dom.membersMore.hidden = event.next === undefined;
    dom.membersMore.disabled = false;
    const empty = dom.memberList.childElementCount === 0;
    this.setMembersNote(empty ? 'Nobody is listed in this room.' : undefined);
  }

  private setMembersNote(text: string | undefined): void {
    dom.membersNote.textContent = text ?? '';
    dom.membersNote.hidden = text === undefined;
  }

  private onError(error: Extract<SessionEvent, { type: 'error' }>): void {
    // Badges are a hint: a refused count (the rate, a busy store) waits for the next refresh, unannounced.
    if (error.about === 'unread') return;
    if (error.about === 'members') {
      dom.membersMore.disabled = false;
      dom.membersMore.hidden = this.membersNext === undefined;
      this.setMembersNote(`${this.errorTitle(error.code)}: ${error.message}`);
      return;
    }
    if (error.about === 'nick' && this.picking) {
      // The name picked to stop watching was refused: back to watching, and ask again with the reason.
      this.picking = false;
      this.nick = this.session.identity.nick;
      this.setWatching(true);
      this.render();
      this.askForNick();
      showFieldError(dom.welcomeError, dom.welcomeNick, error.message);
      return;
    }
    if (error.about === 'nick') {
      this.renaming = false;
      dom.nickSave.disabled = false;
      showFieldError(dom.nickError, dom.nickInput, error.message);
      this.list.addNotice(error.message, 'error', 'Nickname not changed.');
      return;
    }
    if (error.about === 'join' && error.code === 'invalid_room')
      showFieldError(dom.roomError, dom.roomInput, error.message);
    this.list.addNotice(error.message, 'error', `${this.errorTitle(error.code)}.`);
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

  // ---- what the user does -----------------------------------------------------------------------------

  private changeNick(value: string): void {
    const checked = checkNick(value);
    if (!checked.ok) return showFieldError(dom.nickError, dom.nickInput, checked.reason);
    showFieldError(dom.nickError, dom.nickInput, undefined);
    if (checked.value === this.nick) return this.closeMenu();
    if (this.session.isReady) {
      this.renaming = true;
      dom.nickSave.disabled = true;
      this.session.setNick(checked.value);
      return;
    }
    // Not connected: the next connection introduces us under the new name.
    this.setWatching(false);
    this.nick = checked.value;
    this.session.setNick(checked.value);
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
    // What was seen here is read: from now on this room's badge counts what comes after it.
    this.rememberSeen();
    this.session.join(checked.value);
    if (this.session.isConnected) return;
    // Not connected: switch locally; the next connection opens in the new room.
    this.room = checked.value;
    this.rows.clear();
    this.list.clear();
    this.unreadBadges.read(this.room);
    storage.set(KEYS.room, this.room);
    this.rememberRoom(this.room);
    this.render();
    this.closeMenu();
  }

  // ---- own messages, rooms ----------------------------------------------------------------------------

  /**
   * Ours: sent from this page (its cid prefix), or by one of this tab's connections (tag and nick as they were
   * when we sent it; tags are per connection). Another tab's messages are someone else's.
   */
  private isOwn(message: ChatMessage): boolean {
    if (message.source === 'api') return false;
    if (message.cid?.startsWith(`${this.clientId}-`)) return true;
    return this.ownKeys.has(`${message.tag}:${message.from}`);
  }

  /** Per tab (sessionStorage): two tabs of one browser are two people, each with its own connections. */
  private rememberOwn(tag: string, nick: string): void {
    const key = `${tag}:${nick}`;
    if (this.ownKeys.has(key)) return;
    this.ownKeys.add(key);
    tabStorage.setList(KEYS.own, [...this.ownKeys].slice(-MAX_OWN_KEYS));
  }

  private rememberRoom(room: string): void {
    if (this.token !== undefined) return;
    this.recent.visit(room);
    const url = new URL(window.location.href);
    if (url.searchParams.get('room') !== room) {
      url.searchParams.set('room', room);
      window.history.replaceState(null, '', url.toString());
    }
  }

  /** The newest message seen in the session's room, so that its unread count starts after it later. */
  private rememberSeen(): void {
    const room = this.session.currentRoom;
    const seen = this.session.lastSeen;
    if (room !== undefined && seen !== undefined && this.token === undefined)
      this.recent.markSeen(room, seen);
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

  /** Not connected: nobody is known to be online (the count comes back with the next join). */
  private clearOnline(): void {
    dom.online.dataset.count = '0';
    dom.onlineText.textContent = '–';
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

  /** Why a text cannot be sent: over the server's limit (from config.json); undefined when it fits. */
  private tooLong(value: string): string | undefined {
    const bytes = utf8Length(value.replace(/\s+$/, ''));
    if (bytes <= this.maxMessageBytes) return undefined;
    const limit = this.maxMessageBytes.toLocaleString('en-US');
    return `Too long to send: ${bytes.toLocaleString('en-US')} bytes; the limit is ${limit}. Shorten it to send.`;
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
    dom.nickSave.disabled = locked || this.renaming;
    dom.roomInput.disabled = locked;
    dom.roomJoin.disabled = locked;
    dom.identityNote.hidden = !locked;
    // Invitations with tokens are issued by a backend; a plain link only makes sense for open chats.
    dom.invite.hidden = locked || navigator.clipboard === undefined;
    dom.inviteRoom.textContent = `#${this.room}`;
    dom.watchRoom.textContent = `#${this.room}`;
    const rooms = locked ? [this.room] : this.recent.list();
    if (!rooms.includes(this.room)) rooms.unshift(this.room);
    dom.roomList.replaceChildren(
      ...rooms.map((room) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'room-link';
        button.dataset.room = room;
        // A long name is cut short in the list: the whole of it on hover.
        button.title = `#${room}`;
        const hash = document.createElement('span');
        hash.className = 'hash';
        hash.setAttribute('aria-hidden', 'true');
        hash.textContent = '#';
        const name = document.createElement('span');
        name.className = 'room-name';
        name.textContent = room;
        button.append(hash, name);
        const badge = room === this.room ? undefined : badgeText(this.unreadBadges.of(room));
        if (badge !== undefined) {
          const count = document.createElement('span');
          count.className = 'unread-badge';
          count.textContent = badge;
          button.append(count);
          button.setAttribute('aria-label', `#${room}, ${badge} unread`);
        }
        if (room === this.room) button.setAttribute('aria-current', 'page');
        button.disabled = locked && room !== this.room;
        button.addEventListener('click', () => this.switchRoom(room));
        li.append(button);
        return li;
      }),
    );
    const elsewhere = this.unreadBadges.anyBut(this.room);
    dom.menuUnread.hidden = !elsewhere;
    dom.menuButton.setAttribute(
      'aria-label',
      `Profile and rooms${elsewhere ? ' (new messages in other rooms)' : ''}`,
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
    dom.online.addEventListener('click', () => {
      if (dom.members.hidden) this.openMembers();
      else this.closeMembers();
    });
    dom.membersClose.addEventListener('click', () => {
      this.closeMembers();
      dom.online.focus();
    });
    dom.membersMore.addEventListener('click', () => this.askMembers(this.membersNext));
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
      if (event.key === 'Escape' && !dom.members.hidden) {
        this.closeMembers();
        dom.online.focus();
      }
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
      const tooLong = this.tooLong(dom.input.value);
      dom.composerLimit.textContent = tooLong ?? '';
      dom.composerLimit.hidden = tooLong === undefined;
      if (tooLong === undefined) dom.input.removeAttribute('aria-invalid');
      else dom.input.setAttribute('aria-invalid', 'true');
      dom.send.disabled = dom.input.disabled || dom.input.value.trim() === '' || tooLong !== undefined;
    };
    dom.input.addEventListener('input', () => {
      autosize();
      // Each keystroke may say so; the session passes on one notice per typing interval.
      if (dom.input.value.trim() !== '' && !this.watching) this.session.typing();
    });
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
      // Blocked here rather than refused by the server: the text stays in the box to be shortened.
      if (text.trim() === '' || this.tooLong(text) !== undefined) return;
      dom.input.value = '';
      autosize();
      this.session.sendMessage(text);
      dom.input.focus();
    });

    dom.pickName.addEventListener('click', () => this.askForNick());
    dom.welcomeWatch.addEventListener('click', () => dom.welcome.close());
    dom.welcomeForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const nick = checkNick(dom.welcomeNick.value);
      const room = checkRoom(dom.welcomeRoom.value || DEFAULT_ROOM);
      if (!nick.ok) return showFieldError(dom.welcomeError, dom.welcomeNick, nick.reason);
      if (!room.ok) return showFieldError(dom.welcomeError, dom.welcomeRoom, room.reason);
      showFieldError(dom.welcomeError, dom.welcomeNick, undefined);
      dom.welcome.close();
      this.pickName(nick.value, room.value);
      dom.input.focus();
    });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible') return this.rememberSeen();
      this.unreadBadges.refresh();
      if (this.unread > 0) {
        this.unread = 0;
        this.renderTitle();
      }
    });
    window.addEventListener('focus', () => this.unreadBadges.refresh());
    window.addEventListener('pagehide', () => this.rememberSeen());
  }
}

const app = new ChatApp(readParams(window.location.search));
void app.boot();
