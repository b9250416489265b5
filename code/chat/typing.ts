import type { ChatContext } from './context';
import { fanOut } from './delivery';
import { connectionTag } from './identity';
import { envelope } from './protocol';
import { createRateLimiter } from './rate-limiter';
import { readRoster } from './roster';
import type { Senders } from './senders';

/**
 * The `typing` command: "I am typing" to the rest of the room, pushed and forgotten (not stored, not acked).
 *
 * Cost per notice: the room's listing (one LIST per 1000 members, often saved by the sender cache) and one push
 * per other member, nothing written. The server passes on at most one notice per connection every
 * TYPING_INTERVAL_S seconds (per warm container; extra ones are dropped without an answer: the next keystroke
 * sends another), and none in rooms above PRESENCE_MAX_ONLINE, where presence lines stop for the same reason.
 * A typist therefore costs at most (online − 1) / 3 pushes a second, a fifteenth of a sender at the message rate.
 */

export const TYPING_INTERVAL_S = 3;

export function createTypingCommand(ctx: ChatContext, senders: Senders) {
  const limiter = createRateLimiter(1 / TYPING_INTERVAL_S, 1);
  return async function typing(connectionId: string): Promise<void> {
    if (!limiter.take(connectionId, ctx.clock())) return;
    const { sender, roster } = await senders.identify(connectionId);
    const members = roster ?? (await readRoster(ctx, sender.room, sender.id));
    if (members.online > ctx.settings.limits.presenceMaxOnline) return;
    await fanOut(
      ctx,
      members,
      envelope({
        type: 'typing',
        room: sender.room,
        nick: sender.nick,
        tag: connectionTag(sender),
        ts: ctx.clock(),
      }),
    );
  };
}
