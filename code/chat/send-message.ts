import type { ChatContext } from './context';
import { postToRoom, RoomUnreadableError, type Posted } from './delivery';
import { errorMessage } from './log';
import { envelope, ProtocolError, type ChatMessage } from './protocol';
import { tagOf } from './rules';
import { touch } from './roster';
import type { Senders } from './senders';

/** A chat message from a connection: posted to the sender's room, then acknowledged to the sender. */
export async function sendMessage(
  ctx: ChatContext,
  senders: Senders,
  connectionId: string,
  text: string,
  ref: string | undefined,
): Promise<void> {
  const { sender, roster } = await senders.identify(connectionId);
  const now = ctx.clock();
  const message: ChatMessage = {
    id: ctx.messageIds.next(now),
    room: sender.room,
    from: sender.nick,
    tag: tagOf(sender.id),
    text,
    ts: now,
  };
  let posted: Posted;
  try {
    posted = await postToRoom(ctx, message, { sender: sender.id, listed: roster });
  } catch (error) {
    if (!(error instanceof RoomUnreadableError)) throw error;
    const saved = error.stored ? `message ${message.id} is saved in history, but ` : '';
    throw new ProtocolError('store_unavailable', `${saved}the room could not be read; try again`, ref);
  }
  ctx.log.info('message', {
    room: sender.room,
    id: message.id,
    delivered: posted.delivered,
    gone: posted.gone,
    failed: posted.failed,
  });
  // A message is also a sign of life: refresh last-seen when it is half-way to the TTL (or was pruned).
  const lastSeen = posted.roster.excluded?.lastSeen;
  if (lastSeen === undefined || lastSeen < ctx.clock() - ctx.settings.limits.connectionTtlMs / 2) {
    await touch(ctx, sender).catch((error: unknown) =>
      ctx.log.warn('touch_failed', { error: errorMessage(error) }),
    );
  }
  await ctx.reply(
    sender.id,
    envelope({
      type: 'ack',
      for: 'message',
      ref,
      id: message.id,
      delivered: posted.delivered,
      failed: posted.failed,
      online: posted.online,
      stored: posted.stored,
    }),
  );
}
