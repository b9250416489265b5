import type { Timers } from './unread-badges';

/**
 * "alice is typing…" above the composer. The server passes on a person's notice at most once per typing interval
 * while they type, so a notice is shown for two intervals and a second (one notice lost to timing costs no
 * flicker), and ends early when that person's message arrives. Text only: names go in as text, never HTML.
 */

const DEFAULT_INTERVAL_MS = 3000;

/** The line for these people (in the order they started typing); empty for nobody. */
export function typingText(nicks: readonly string[]): string {
  const [first, second] = nicks;
  if (first === undefined) return '';
  if (second === undefined) return `${first} is typing…`;
  if (nicks.length === 2) return `${first} and ${second} are typing…`;
  if (nicks.length === 3) return `${first}, ${second} and ${nicks[2]} are typing…`;
  return `${first}, ${second} and ${nicks.length - 2} others are typing…`;
}

export class TypingNotice {
  /** By `nick#tag`: two people of one name are two typists. */
  private readonly typists = new Map<string, { nick: string; until: number }>();
  private cancelExpiry: (() => void) | undefined;
  private showMs = 2 * DEFAULT_INTERVAL_MS + 1000;

  constructor(
    private readonly node: Pick<HTMLElement, 'textContent' | 'dataset'>,
    private readonly timers: Timers,
  ) {}

  /** The server's typing interval (config.json `typingIntervalSeconds`). */
  useInterval(ms: number): void {
    this.showMs = 2 * ms + 1000;
  }

  typing(nick: string, tag: string): void {
    const key = `${nick}#${tag}`;
    // A typist already shown keeps their place: people are listed in the order they started typing.
    const known = this.typists.get(key);
    if (known) known.until = this.timers.now() + this.showMs;
    else this.typists.set(key, { nick, until: this.timers.now() + this.showMs });
    this.render();
  }

  /** Their message arrived: they are done typing it. */
  stopped(nick: string, tag: string): void {
    if (this.typists.delete(`${nick}#${tag}`)) this.render();
  }

  /** Another room, or no connection: nobody here is known to be typing. */
  clear(): void {
    this.typists.clear();
    this.render();
  }

  private render(): void {
    const now = this.timers.now();
    for (const [key, { until }] of this.typists) if (until <= now) this.typists.delete(key);
    const text = typingText([...this.typists.values()].map((t) => t.nick));
    this.node.textContent = text;
    this.node.dataset.active = String(text !== '');
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    const next = Math.min(...[...this.typists.values()].map((t) => t.until));
    if (Number.isFinite(next)) this.cancelExpiry = this.timers.after(next - now, () => this.render());
  }
}
