import { TypingNotice, typingText } from '../../../web/typing-notice';
import { UnreadBadges, type Timers } from '../../../web/unread-badges';

/** The page's unread badge schedule and typing line (web/unread-badges.ts, web/typing-notice.ts), on a fake clock. */

function fakeTimers() {
  let now = 1_000_000;
  const pending: Array<{ at: number; run: () => void; cancelled: boolean }> = [];
  const timers: Timers = {
    now: () => now,
    after(ms, run) {
      const timer = { at: now + ms, run, cancelled: false };
      pending.push(timer);
      return () => (timer.cancelled = true);
    },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = pending.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      due.cancelled = true;
      due.run();
    }
    now = until;
  };
  return { timers, advance };
}

describe('unread badges', () => {
  it('asks at once, defers a request sooner than the server’s interval to its end, and asks once for many', () => {
    const { timers, advance } = fakeTimers();
    const asked: number[] = [];
    const badges = new UnreadBadges(
      () => (asked.push(timers.now()), true),
      () => undefined,
      timers,
    );
    badges.useInterval(5000);
    badges.refresh();
    badges.refresh();
    badges.refresh();
    expect(asked).toEqual([1_000_000]);
    advance(4999);
    expect(asked).toHaveLength(1);
    advance(1);
    expect(asked).toEqual([1_000_000, 1_005_000]);
  });

  it('a request that sent nothing (offline, no other room) does not hold the next one back', () => {
    const { timers } = fakeTimers();
    let online = false;
    let asked = 0;
    const badges = new UnreadBadges(
      () => online && ++asked > 0,
      () => undefined,
      timers,
    );
    badges.refresh();
    online = true;
    badges.refresh();
    expect(asked).toBe(1);
  });

  it('asks every 30 s while the page is in view, and not while it is hidden', () => {
    const { timers, advance } = fakeTimers();
    let asked = 0;
    let inView = true;
    const badges = new UnreadBadges(
      () => ++asked > 0,
      () => undefined,
      timers,
    );
    badges.startPeriodic(() => inView);
    advance(30_000);
    expect(asked).toBe(1);
    inView = false;
    advance(60_000);
    expect(asked).toBe(1);
    inView = true;
    advance(30_000);
    expect(asked).toBe(2);
  });

  it('keeps the latest count per room, drops the room the user is in, and says whether others have news', () => {
    const { timers } = fakeTimers();
    let renders = 0;
    const badges = new UnreadBadges(
      () => true,
      () => (renders += 1),
      timers,
    );
    badges.answered(
      new Map([
        ['dev', { count: 2, capped: false }],
        ['ops', { count: 0, capped: false }],
      ]),
    );
    expect(badges.of('dev')).toEqual({ count: 2, capped: false });
    expect(badges.anyBut('lobby')).toBe(true);
    expect(badges.anyBut('dev')).toBe(false);
    badges.read('dev');
    expect(badges.of('dev')).toBeUndefined();
    expect(badges.anyBut('lobby')).toBe(false);
    badges.read('dev');
    expect(renders).toBe(2);
  });
});

describe('typing notice', () => {
  it('says who is typing, in the order they started', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['alice'])).toBe('alice is typing…');
    expect(typingText(['alice', 'bob'])).toBe('alice and bob are typing…');
    expect(typingText(['alice', 'bob', 'cy'])).toBe('alice, bob and cy are typing…');
    expect(typingText(['alice', 'bob', 'cy', 'di', 'ed'])).toBe('alice, bob and 3 others are typing…');
  });

  it('shows a notice for two intervals and a second, longer while it repeats, and ends it with their message', () => {
    const { timers, advance } = fakeTimers();
    const node = { textContent: '', dataset: {} as DOMStringMap };
    const notice = new TypingNotice(node, timers);
    notice.useInterval(3000);
    notice.typing('alice', '3f2a');
    notice.typing('alice', '9c0e'); // another alice: another typist
    expect(node.textContent).toBe('alice and alice are typing…');
    expect(node.dataset.active).toBe('true');
    advance(3000);
    notice.typing('alice', '3f2a');
    advance(4000);
    expect(node.textContent).toBe('alice is typing…');
    notice.stopped('alice', '3f2a');
    expect(node.textContent).toBe('');
    expect(node.dataset.active).toBe('false');
    notice.typing('bob', 'bbbb');
    notice.clear();
    expect(node.textContent).toBe('');
  });
});
