import type { Connection } from '../registry/registry';
import { mapBounded } from '../util/map-bounded';
import type { ChatContext } from './context';
import { HISTORY_PAGE } from './history-paging';
import { isMessageId } from './message-id';
import { envelope, ProtocolError, type UnreadRequest } from './protocol';
import { createRateLimiter } from './rate-limiter';
import { normalizeRoom } from './rules';

/**
 * The `unread` command: how many messages each named room got after the last one this client saw there, so a
 * page that remembers several rooms can badge them while it is connected to one.
 *
 * Cost per call: one COS LIST per named room (at most UNREAD_ROOMS), of at most HISTORY_LIMIT keys, and no GET:
 * messages are counted by key (history keys carry the message id). A count stops at HISTORY_PAGE and the room
 * is then named in `capped` ("that many or more"). A connection may ask UNREAD_BURST times at once, then once
 * every UNREAD_INTERVAL_S seconds (per warm container, like the message rate). A room given without a last id
 * (`null`) counts every message kept: a room that was empty when the client was last there.
 */

export const UNREAD_ROOMS = 8;
export const UNREAD_INTERVAL_S = 5;
const UNREAD_BURST = 2;
const LIST_CONCURRENCY = 4;

export function createUnreadCommand(ctx: ChatContext) {
  const limiter = createRateLimiter(1 / UNREAD_INTERVAL_S, UNREAD_BURST);
  return async function unread(
    sender: Connection,
    options: { rooms: UnreadRequest[]; ref?: string },
  ): Promise<void> {
    const { ref } = options;
    if (options.rooms.length > UNREAD_ROOMS) {
      throw new ProtocolError('bad_frame', `unread: at most ${UNREAD_ROOMS} rooms per request`, ref);
    }
    const wanted = new Map<string, string | undefined>();
    for (const { room: name, since } of options.rooms) {
      const room = normalizeRoom(name, ref);
      if (since !== undefined && !isMessageId(since)) {
        throw new ProtocolError('invalid_cursor', `unread: the id for "${room}" must be a message id`, ref);
      }
      // With access control on, other rooms are closed to this connection, their traffic included.
      if (ctx.settings.authSecret !== undefined && room !== sender.room) {
        throw new ProtocolError(
          'forbidden',
          'with access control on, only your own room can be counted',
          ref,
        );
      }
      wanted.set(room, since);
    }
    if (!limiter.take(sender.id, ctx.clock())) {
      throw new ProtocolError(
        'rate_limited',
        `unread: at most one request every ${UNREAD_INTERVAL_S} s; try again shortly`,
        ref,
      );
    }
    const entries = [...wanted];
    const counts = await mapBounded(entries, LIST_CONCURRENCY, ([room, since]) =>
      ctx.history.countAfter(room, since, HISTORY_PAGE),
    );
    const rooms: Record<string, number> = {};
    const capped: string[] = [];
    entries.forEach(([room], i) => {
      const { count, capped: full } = counts[i]!;
      rooms[room] = count;
      if (full) capped.push(room);
    });
    await ctx.reply(
      sender.id,
      envelope({ type: 'unread', ref, rooms, ...(capped.length > 0 ? { capped } : {}) }),
    );
  };
}
