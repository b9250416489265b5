import type { ChatContext } from './context';
import { postToRoom, type Delivery } from './delivery';
import { claimOnce } from './idempotency';
import { isClientMessageId, ProtocolError, type ChatMessage } from './protocol';
import { countOnline } from './roster';
import type { PublishRequest } from './requests';
import { checkText, normalizeNick, normalizeRoom } from './rules';

export interface PublishResult extends Delivery {
  id: string;
  /** False when history could not store the message; it was still delivered. */
  stored: boolean;
  /** A retry of a `cid` already published in this room: `id` is the original's. */
  duplicate?: true;
}

/**
 * A message from a backend (the HTTP publish API), posted to the room like a chat message, marked `source: 'api'`;
 * with a `cid`, a retry is published once (see idempotency.ts).
 * Bad input throws ProtocolError; a room that cannot be listed throws RoomUnreadableError.
 */
export async function publish(ctx: ChatContext, request: PublishRequest): Promise<PublishResult> {
  const { limits } = ctx.settings;
  const room = normalizeRoom(request.room);
  const text = checkText(request.text, limits.maxMessageBytes);
  const from = normalizeNick(request.from ?? 'api', limits.maxNickLength);
  const { cid } = request;
  if (cid !== undefined && !isClientMessageId(cid)) {
    throw new ProtocolError('bad_frame', '"cid" must be 1-64 characters of A-Z, a-z, 0-9, _ and -');
  }
  const now = ctx.clock();
  const fresh: ChatMessage = {
    id: ctx.messageIds.next(now),
    room,
    from,
    tag: 'api',
    text,
    ts: now,
    source: 'api',
    ...(cid === undefined ? {} : { cid }),
  };
  // The same idempotency key as a chat message's cid: a backend's retry is published once.
  const claim = await claimOnce(ctx, fresh);
  const { message } = claim;
  const duplicate = claim.kind === 'first' ? {} : { duplicate: true as const };
  if (claim.kind === 'stored') {
    const online = await countOnline(ctx, room);
    return { id: message.id, delivered: 0, gone: 0, failed: 0, online, stored: true, ...duplicate };
  }
  const { delivered, gone, failed, online, stored } = await postToRoom(ctx, message);
  ctx.log.info('published', { room, id: message.id, delivered, stored });
  return { id: message.id, delivered, gone, failed, online, stored, ...duplicate };
}
