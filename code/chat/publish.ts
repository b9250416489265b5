import type { ChatContext } from './context';
import { postToRoom, type Delivery } from './delivery';
import type { ChatMessage } from './protocol';
import type { PublishRequest } from './requests';
import { checkText, normalizeNick, normalizeRoom } from './rules';

export interface PublishResult extends Delivery {
  id: string;
  /** False when history could not store the message; it was still delivered. */
  stored: boolean;
}

/**
 * A message from a backend (the HTTP publish API), posted to the room like a chat message, marked `source: 'api'`.
 * Bad input throws ProtocolError; a room that cannot be listed throws RoomUnreadableError.
 */
export async function publish(ctx: ChatContext, request: PublishRequest): Promise<PublishResult> {
  const { limits } = ctx.settings;
  const room = normalizeRoom(request.room);
  const text = checkText(request.text, limits.maxMessageBytes);
  const from = normalizeNick(request.from ?? 'api', limits.maxNickLength);
  const now = ctx.clock();
  const message: ChatMessage = {
    id: ctx.messageIds.next(now),
    room,
    from,
    tag: 'api',
    text,
    ts: now,
    source: 'api',
  };
  const { delivered, gone, failed, online, stored } = await postToRoom(ctx, message);
  ctx.log.info('published', { room, id: message.id, delivered, stored });
  return { id: message.id, delivered, gone, failed, online, stored };
}
