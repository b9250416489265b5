import type { ChatContext } from './context';
import { postToRoom, RoomUnreadableError, type Posted } from './delivery';
import { errorMessage } from './log';
import { envelope, ProtocolError, type ChatMessage } from './protocol';
import { countOnline } from './roster';
import { tagOf } from './rules';
import type { Senders } from './senders';

/**
 * How long a retry waits for the first attempt of its `cid` to reach history before taking over (ms between
 * looks). The first attempt stores its message while it lists the room, usually within tens of milliseconds; one
 * that has not stored it after this is taken to have failed half-way.
 */
const FIRST_ATTEMPT_WAITS_MS = [0, 100, 300, 600];

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function storedSoon(ctx: ChatContext, message: ChatMessage): Promise<boolean> {
  for (const wait of FIRST_ATTEMPT_WAITS_MS) {
    if (wait > 0) await pause(wait);
    if (await ctx.history.has(message)) return true;
  }
  return false;
}

export interface OutgoingText {
  text: string;
  /** The client's message id: a retry with the same one in the same room is stored and delivered once. */
  cid?: string;
  ref?: string;
}

/**
 * A chat message from a connection: posted to the sender's room, then acknowledged to the sender.
 *
 * With a `cid`, the message first claims it (a create-only COS object, so the claim holds across containers and
 * reconnects). A retry finds the claim: if the first attempt's message is in history, the retry is acknowledged
 * with the original id and nothing is sent again; if it never got there (the first attempt failed half-way, or
 * could not read the room), the retry posts the claimed message itself. It keeps the original id, so history
 * stores it once (same key) and a recipient that got it from both attempts drops the second by id.
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
  let message: ChatMessage = {
    id: ctx.messageIds.next(now),
    room: sender.room,
    from: sender.nick,
    tag: tagOf(sender.id),
    text,
    ts: now,
    ...(cid === undefined ? {} : { cid }),
  };
  let duplicate = false;
  if (cid !== undefined) {
    const claimed = await ctx.history.claim({ ...message, cid });
    if (claimed) {
      duplicate = true;
      message = claimed.message;
      if (!claimed.undelivered && (await storedSoon(ctx, message))) {
        ctx.log.info('message_duplicate', { room: sender.room, id: message.id });
        const online = roster?.online ?? (await countOnline(ctx, sender.room));
        const nothingSent = { delivered: 0, failed: 0, online, stored: true };
        await acknowledge(ctx, sender.id, { ref, id: message.id, duplicate, ...nothingSent });
        return;
      }
      ctx.log.warn('message_retry_takes_over', { room: sender.room, id: message.id });
    }
  }
  let posted: Posted;
  try {
    posted = await postToRoom(ctx, message, { sender: sender.id, listed: roster });
  } catch (error) {
    if (!(error instanceof RoomUnreadableError)) throw error;
    if (cid !== undefined) {
      // Nobody received it: a retry of this cid must deliver it rather than answer "duplicate".
      await ctx.history
        .markUndelivered({ ...message, cid })
        .catch((failure: unknown) => ctx.log.warn('claim_mark_failed', { error: errorMessage(failure) }));
    }
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
    await ctx.registry
      .touch(sender)
      .catch((error: unknown) => ctx.log.warn('touch_failed', { error: errorMessage(error) }));
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
