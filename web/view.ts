import type { ChatMessage } from '../code/chat/protocol';
import { formatDay, formatFull, formatTime, hueOf, initialOf, startOfDay, timeKey } from './util';

/**
 * The message list. Every row carries a sort key (message ids sort by time; other rows use the same base36
 * time prefix), so history that arrives after live messages, or an ack that gives a pending message its id,
 * lands in the right place. User text only ever goes through textContent.
 */

const MAX_ROWS = 800;
/** Consecutive messages from one sender within this window share a header. */
const GROUP_MS = 5 * 60_000;
/** Sorts after every time-based key: unconfirmed messages stay at the bottom. */
const PENDING_PREFIX = '~';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function visuallyHidden(text: string): HTMLSpanElement {
  return el('span', 'visually-hidden', text);
}

function timeElement(ms: number): HTMLTimeElement {
  const time = el('time', 'time', formatTime(ms));
  time.dateTime = new Date(ms).toISOString();
  time.title = formatFull(ms);
  return time;
}

/** http(s) addresses in message text; everything else stays text. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that usually ends the sentence around a link rather than the link itself. */
const TRAILING = /[.,;:!?'"»”’]+$/;

/**
 * A message's text with its web addresses as links. Built from text nodes and <a> elements only: a message is
 * never parsed as HTML, and only http and https addresses become links (never javascript: or data:).
 */
export function textWithLinks(text: string): HTMLParagraphElement {
  const paragraph = el('p', 'text');
  let shown = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let candidate = match[0].replace(TRAILING, '');
    // A closing parenthesis belongs to the link only if the link opened one: "(see https://x.y/a)".
    while (candidate.endsWith(')') && candidate.split('(').length < candidate.split(')').length)
      candidate = candidate.slice(0, -1).replace(TRAILING, '');
    let href: string;
    try {
      href = new URL(candidate).href;
    } catch {
      continue;
    }
    const start = match.index ?? 0;
    paragraph.append(document.createTextNode(text.slice(shown, start)));
    const link = el('a', 'link', candidate);
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer nofollow';
    paragraph.append(link);
    shown = start + candidate.length;
  }
  paragraph.append(document.createTextNode(text.slice(shown)));
  return paragraph;
}

export function avatar(nick: string, className = 'avatar'): HTMLSpanElement {
  const node = el('span', className, initialOf(nick));
  node.style.setProperty('--hue', String(hueOf(nick)));
  node.setAttribute('aria-hidden', 'true');
  return node;
}

export type Receipt =
  | { state: 'queued' }
  | { state: 'sending' }
  | { state: 'delivered'; delivered?: number; failed?: number; stored?: boolean }
  | { state: 'failed'; reason: string; retry?: () => void };

/** A message row; own messages change state as the server answers. */
export class MessageRow {
  readonly element: HTMLLIElement;
  private readonly receipt: HTMLSpanElement;
  private readonly time: HTMLTimeElement;

  constructor(
    private readonly list: MessageList,
    readonly message: { from: string; tag: string; text: string; ts: number; id?: string; source?: string },
    readonly own: boolean,
  ) {
    const li = el('li', `row msg${own ? ' own' : ''}`);
    li.dataset.from = message.from;
    li.dataset.tag = message.tag;
    li.dataset.sender = `${message.from}\u0000${message.tag}`;
    li.dataset.ts = String(message.ts);
    li.style.setProperty('--hue', String(hueOf(message.from)));
    if (!own) li.append(avatar(message.from));
    const body = el('div', 'body');
    this.time = timeElement(message.ts);
    this.receipt = el('span', 'receipt');
    const bubble = el('div', 'bubble');
    bubble.append(textWithLinks(message.text));
    if (own) {
      // Own messages need no name; their time sits with the delivery receipt, under the bubble.
      const foot = el('div', 'foot');
      foot.append(this.time, this.receipt);
      body.append(visuallyHidden('You said:'), bubble, foot);
    } else {
      const meta = el('div', 'meta');
      meta.append(el('span', 'from', message.from));
      const tag = el('span', 'tag', message.source === 'api' ? 'bot' : `#${message.tag}`);
      tag.title =
        message.source === 'api'
          ? 'Sent through the publish API'
          : 'Connection tag: tells same-named people apart';
      meta.append(tag, this.time);
      body.append(meta, bubble);
    }
    li.append(body);
    this.element = li;
    if (message.id) li.dataset.id = message.id;
  }

  get id(): string | undefined {
    return this.element.dataset.id;
  }

  /** The server's id and time for an own message: it moves from the pending tail to its place in order. */
  confirm(id: string, ts: number): void {
    this.element.dataset.id = id;
    this.element.dataset.ts = String(ts);
    this.time.textContent = formatTime(ts);
    this.time.dateTime = new Date(ts).toISOString();
    this.time.title = formatFull(ts);
    this.list.reposition(this, id);
  }

  /** Back to the tail, e.g. when a failed message is sent again. */
  requeue(): void {
    this.element.removeAttribute('data-id');
    this.list.reposition(this, this.list.pendingKey());
  }

  setReceipt(receipt: Receipt): void {
    const node = this.receipt;
    node.replaceChildren();
    node.removeAttribute('role');
    this.element.classList.toggle('pending', receipt.state === 'queued' || receipt.state === 'sending');
    this.element.classList.toggle('failed', receipt.state === 'failed');
    this.element.dataset.state = receipt.state;
    if (receipt.state === 'queued') {
      node.append(el('span', 'spinner'), el('span', '', 'Waiting for connection…'));
    } else if (receipt.state === 'sending') {
      node.append(el('span', 'spinner'), el('span', '', 'Sending…'));
    } else if (receipt.state === 'delivered') {
      const { delivered, failed = 0, stored = true } = receipt;
      // The count of people reached; a bare check when nobody else was there (or the count is unknown).
      const check = el('span', 'check', delivered ? `✓ ${delivered}` : '✓');
      if (delivered !== undefined) this.element.dataset.delivered = String(delivered);
      check.title =
        delivered === undefined
          ? 'Sent'
          : delivered === 0
            ? 'Sent; nobody else is in the room right now'
            : `Delivered to ${delivered} ${delivered === 1 ? 'person' : 'people'}`;
      node.append(check, visuallyHidden(check.title));
      if (failed > 0) node.append(el('span', 'warn', ` · ${failed} not reached`));
      if (!stored) node.append(el('span', 'warn', ' · not saved in history'));
    } else {
      // Settles where it failed instead of staying below messages that come later.
      if (this.element.dataset.key?.startsWith(PENDING_PREFIX))
        this.list.reposition(this, this.list.tailKey());
      node.setAttribute('role', 'alert');
      node.append(el('span', 'error-text', `Not sent: ${receipt.reason}`));
      if (receipt.retry) {
        const retry = el('button', 'link-button', 'Retry');
        retry.type = 'button';
        retry.addEventListener('click', receipt.retry, { once: true });
        node.append(retry);
      }
    }
  }

  remove(): void {
    this.list.removeRow(this.element);
  }
}

export class MessageList {
  private readonly days = new Set<number>();
  private pendingSeq = 0;
  private busy = 0;
  private unseen = 0;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly jump: HTMLButtonElement,
  ) {
    list.addEventListener('scroll', () => {
      if (this.nearBottom()) this.hideJump();
    });
    jump.addEventListener('click', () => this.scrollToBottom(true));
  }

  clear(): void {
    this.list.replaceChildren();
    this.days.clear();
    this.hideJump();
  }

  /** Renders many rows at once (history) without a screen reader reading each, then shows the newest. */
  batch(render: () => void): void {
    this.busy += 1;
    this.list.setAttribute('aria-busy', 'true');
    try {
      render();
    } finally {
      this.busy -= 1;
      if (this.busy === 0) this.list.removeAttribute('aria-busy');
    }
  }

  pendingKey(): string {
    this.pendingSeq += 1;
    return `${PENDING_PREFIX}${String(this.pendingSeq).padStart(8, '0')}`;
  }

  addMessage(message: ChatMessage, own: boolean, scroll: 'auto' | 'force' = 'auto'): MessageRow {
    const row = new MessageRow(this, message, own);
    this.insert(row.element, message.id, message.ts, scroll);
    return row;
  }

  addPending(from: string, tag: string, text: string): MessageRow {
    const ts = Date.now();
    const row = new MessageRow(this, { from, tag, text, ts }, true);
    this.insert(row.element, this.pendingKey(), ts, 'force');
    return row;
  }

  addPresence(text: string, ts: number, hue?: number): void {
    const li = el('li', 'row event');
    const pill = el('span', 'pill');
    if (hue !== undefined) li.style.setProperty('--hue', String(hue));
    pill.append(el('span', 'event-text', text), el('span', 'sep', ' · '), timeElement(ts));
    li.append(pill);
    this.insert(li, timeKey(ts), ts, 'auto');
  }

  /** The first line of a room whose whole history is shown. */
  addIntro(text: string): void {
    this.list.querySelector(':scope > .older')?.remove();
    // A rejoin of an empty room answers the same way as the first join: one intro is enough.
    if (this.list.querySelector(':scope > .intro')) return;
    const li = el('li', 'row notice info intro');
    const box = el('div', 'notice-box');
    box.append(el('span', 'notice-text', text));
    li.append(box);
    // '0' sorts before every time key, the day separators included.
    li.dataset.key = '0';
    this.place(li);
  }

  /** The first line while older messages are kept: a button that asks for the page before the oldest shown. */
  showLoadOlder(load: () => boolean): void {
    this.list.querySelector(':scope > .older')?.remove();
    const li = el('li', 'row notice info older');
    const button = el('button', 'link-button load-older', 'Load older messages');
    button.type = 'button';
    button.addEventListener('click', () => {
      if (!load()) return;
      button.disabled = true;
      button.textContent = 'Loading…';
    });
    li.append(button);
    li.dataset.key = '0';
    this.place(li);
  }

  /** A page of older messages, above the ones shown, keeping what the reader is looking at where it is. */
  addOlder(messages: ChatMessage[], isOwn: (message: ChatMessage) => boolean): void {
    const fromBottom = this.list.scrollHeight - this.list.scrollTop;
    this.batch(() => {
      for (const message of messages) {
        const row = new MessageRow(this, message, isOwn(message));
        row.element.dataset.key = message.id;
        this.ensureDay(message.ts);
        this.place(row.element);
      }
    });
    this.list.scrollTop = this.list.scrollHeight - fromBottom;
  }

  /** A local line (error or info); it goes after everything already shown. */
  addNotice(text: string, kind: 'error' | 'info' = 'info', title?: string): HTMLLIElement {
    const li = el('li', `row notice ${kind}`);
    const box = el('div', 'notice-box');
    if (title) box.append(el('strong', 'notice-title', title), el('span', '', ' '));
    box.append(el('span', 'notice-text', text));
    li.append(box);
    this.insert(li, this.tailKey(), Date.now(), 'force');
    return li;
  }

  /** A key after every row shown so far, but before the unconfirmed ones. */
  tailKey(): string {
    return `${this.lastTimeKey() ?? timeKey(Date.now())}~`;
  }

  reposition(row: MessageRow, key: string): void {
    const stick = this.nearBottom();
    row.element.dataset.key = key;
    const next = row.element.nextElementSibling;
    row.element.remove();
    if (next instanceof HTMLElement) this.regroup(next);
    this.place(row.element);
    if (stick) this.scrollToBottom(false);
  }

  removeRow(element: HTMLElement): void {
    const next = element.nextElementSibling;
    element.remove();
    if (next instanceof HTMLElement) this.regroup(next);
  }

  private lastTimeKey(): string | undefined {
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      const key = (node as HTMLElement).dataset.key;
      if (key && !key.startsWith(PENDING_PREFIX)) return key;
    }
    return undefined;
  }

  private insert(element: HTMLLIElement, key: string, ts: number, scroll: 'auto' | 'force'): void {
    const stick = scroll === 'force' || this.nearBottom();
    element.dataset.key = key;
    this.ensureDay(ts);
    this.place(element);
    this.trim();
    if (stick) this.scrollToBottom(false);
    else if (this.busy === 0 && element.classList.contains('msg')) this.showJump();
  }

  private ensureDay(ts: number): void {
    const day = startOfDay(ts);
    if (this.days.has(day)) return;
    this.days.add(day);
    const li = el('li', 'row day');
    li.dataset.day = String(day);
    li.dataset.key = timeKey(day);
    li.append(el('span', 'pill', formatDay(day)));
    this.place(li);
  }

  private place(element: HTMLElement): void {
    const key = element.dataset.key ?? '';
    let before = this.list.lastElementChild;
    while (before && ((before as HTMLElement).dataset.key ?? '') > key)
      before = before.previousElementSibling;
    if (before) before.after(element);
    else this.list.prepend(element);
    this.regroup(element);
    const next = element.nextElementSibling;
    if (next instanceof HTMLElement) this.regroup(next);
  }

  /** A message continues the group above when the same sender wrote it shortly after. */
  private regroup(element: HTMLElement): void {
    if (!element.classList.contains('msg')) return;
    const previous = element.previousElementSibling as HTMLElement | null;
    const continues =
      previous !== null &&
      previous.classList.contains('msg') &&
      !previous.classList.contains('failed') &&
      previous.dataset.sender === element.dataset.sender &&
      Math.abs(Number(element.dataset.ts) - Number(previous.dataset.ts)) < GROUP_MS;
    element.classList.toggle('cont', continues);
  }

  private trim(): void {
    while (this.list.children.length > MAX_ROWS) {
      const first = this.list.firstElementChild as HTMLElement | null;
      if (!first) break;
      if (first.dataset.day) this.days.delete(Number(first.dataset.day));
      first.remove();
    }
  }

  private nearBottom(): boolean {
    const { scrollTop, scrollHeight, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight < 120;
  }

  scrollToBottom(smooth: boolean): void {
    this.list.scrollTo({ top: this.list.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.hideJump();
  }

  private showJump(): void {
    this.unseen += 1;
    this.jump.textContent = this.unseen === 1 ? '1 new message ↓' : `${this.unseen} new messages ↓`;
    this.jump.hidden = false;
  }

  private hideJump(): void {
    this.unseen = 0;
    this.jump.hidden = true;
  }
}
