import type { UnreadCount } from '../code/client/session';

/**
 * Unread counts of the recent rooms the page is not in, and when to ask for them: on connect, on a room switch,
 * when the page comes back into view, and every PERIOD_MS while it is in view, never more often than the server
 * allows (`unreadIntervalSeconds`; a request sooner than that is deferred to then, not dropped).
 */

const PERIOD_MS = 30_000;
const DEFAULT_INTERVAL_MS = 5000;

export interface Timers {
  now(): number;
  /** Runs `run` after `ms`; returns a function that cancels it. */
  after(ms: number, run: () => void): () => void;
}

export class UnreadBadges {
  private readonly counts = new Map<string, UnreadCount>();
  private askedAt = Number.NEGATIVE_INFINITY;
  private cancelDeferred: (() => void) | undefined;
  private intervalMs = DEFAULT_INTERVAL_MS;

  constructor(
    /** Sends the request for the other rooms; false when nothing was sent (offline, no other room known). */
    private readonly ask: () => boolean,
    /** The counts changed: render them. */
    private readonly changed: () => void,
    private readonly timers: Timers,
  ) {}

  /** The server's rate (config.json `unreadIntervalSeconds`). */
  useInterval(ms: number): void {
    this.intervalMs = ms;
  }

  /** Asks every PERIOD_MS while `inView()` says the page is seen. */
  startPeriodic(inView: () => boolean): void {
    const tick = () => {
      if (inView()) this.refresh();
      this.timers.after(PERIOD_MS, tick);
    };
    this.timers.after(PERIOD_MS, tick);
  }

  /** Asks now, or as soon as the server's rate allows. */
  refresh(): void {
    const wait = this.askedAt + this.intervalMs - this.timers.now();
    if (wait > 0) {
      this.cancelDeferred ??= this.timers.after(wait, () => {
        this.cancelDeferred = undefined;
        this.refresh();
      });
      return;
    }
    if (this.ask()) this.askedAt = this.timers.now();
  }

  /** The server's answer: these rooms' counts replace what was shown for them. */
  answered(rooms: ReadonlyMap<string, UnreadCount>): void {
    for (const [room, count] of rooms) this.counts.set(room, count);
    this.changed();
  }

  /** The user is in `room` now: nothing there is unread. */
  read(room: string): void {
    if (this.counts.delete(room)) this.changed();
  }

  of(room: string): UnreadCount | undefined {
    return this.counts.get(room);
  }

  /** Whether any room but `current` has something unread. */
  anyBut(current: string): boolean {
    return [...this.counts].some(([room, { count }]) => room !== current && count > 0);
  }
}
