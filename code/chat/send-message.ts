import type { ChatContext } from './context';
import { postToRoom, RoomUnreadableError, type Posted } from './delivery';
import { errorMessage } from './log';
import { claimOnce, markUndelivered } from './idempotency';
import { connectionTag } from './identity';
import { envelope, ProtocolError } from './protocol';
import { countOnline, touch } from './roster';
import type { Senders } from './senders';

export interface OutgoingText {
  text: string;
  /** The client's message id: a retry with the same one in the same room is stored and delivered once. */
  cid?: string;
  ref?: string;
}

/**
 * A chat message from a connection: posted to the sender's room, then acknowledged to the sender.
 *
 * With a `cid`, a retry is acknowledged with the original id and sends nothing again, or, if the first attempt
 * never got the message to the room, posts the first attempt's message (see idempotency.ts).
 */
export async function sendMessage(
  ctx: ChatContext,
  senders: Senders,
  connectionId: string,
  outgoing: OutgoingText,
): Promise<void> {
  const { text, cid, ref } = outgoing;
  const { sender, roster } = await senders.identify(connectionId);
  const now = ctx.clock();
  const claim = await claimOnce(ctx, {
    id: ctx.messageIds.next(now),
    room: sender.room,
    from: sender.nick,
    tag: connectionTag(sender),
    text,
    ts: now,
    ...(cid === undefined ? {} : { cid }),
  });
  const { message } = claim;
  const duplicate = claim.kind !== 'first';
  if (claim.kind === 'stored') {
    const online = roster?.online ?? (await countOnline(ctx, sender.room));
    const nothingSent = { delivered: 0, failed: 0, online, stored: true };
    await acknowledge(ctx, sender.id, { ref, id: message.id, duplicate, ...nothingSent });
    return;
  }
  let posted: Posted;
  try {
    posted = await postToRoom(ctx, message, { sender: sender.id, listed: roster });
  } catch (error) {
    if (!(error instanceof RoomUnreadableError)) throw error;
    await markUndelivered(ctx, message);
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
  const { delivered, failed, online, stored } = posted;
  await acknowledge(ctx, sender.id, { ref, id: message.id, duplicate, delivered, failed, online, stored });
}

/** The sender's ack; `duplicate` when the cid had been sent before (the id is then the original's). */
function acknowledge(
  ctx: ChatContext,
  senderId: string,
  ack: {
    ref?: string;
    id: string;
    duplicate: boolean;
    delivered: number;
    failed: number;
    online: number;
    stored: boolean;
  },
): Promise<void> {
  const { duplicate, ...fields } = ack;
  return ctx.reply(
    senderId,
    envelope({ type: 'ack', for: 'message', ...fields, ...(duplicate ? { duplicate: true as const } : {}) }),
  );
}
