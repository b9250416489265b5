import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { isMessageId } from './message-id';
import { envelope, ProtocolError } from './protocol';

/** History page size for join and history requests: the most one answer holds. */
export const HISTORY_PAGE = 50;

/** Sends the connection a page of its room's history: the latest, or the next after the cursor `since`. */
export async function sendHistory(
  ctx: ChatContext,
  connection: Connection,
  options: { since?: string; limit?: number; ref?: string },
): Promise<void> {
  const { since, ref } = options;
  if (since !== undefined && !isMessageId(since)) {
    throw new ProtocolError('invalid_cursor', '"since" must be a message id', ref);
  }
  const limit = Math.min(options.limit ?? HISTORY_PAGE, HISTORY_PAGE);
  const page = await ctx.history.recent(connection.room, { since, limit });
  await ctx.reply(
    connection.id,
    envelope({ type: 'history', ref, room: connection.room, messages: page.messages, more: page.more }),
  );
}
