import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { isMessageId } from './message-id';
import { envelope, ProtocolError } from './protocol';

/** History page size for join and history requests: the most one answer holds. */
export const HISTORY_PAGE = 50;

/**
 * Sends the connection a page of its room's history: the latest, the next after the cursor `since` (catching
 * up; `gap` when retention may have dropped some of what followed it) or the one before `before` (older).
 */
export async function sendHistory(
  ctx: ChatContext,
  connection: Connection,
  options: { since?: string; before?: string; limit?: number; ref?: string },
): Promise<void> {
  const { since, before, ref } = options;
  for (const [name, cursor] of [
    ['since', since],
    ['before', before],
  ] as const) {
    if (cursor !== undefined && !isMessageId(cursor)) {
      throw new ProtocolError('invalid_cursor', `"${name}" must be a message id`, ref);
    }
  }
  const limit = Math.min(options.limit ?? HISTORY_PAGE, HISTORY_PAGE);
  const page = await ctx.history.recent(connection.room, { since, before, limit });
  await ctx.reply(
    connection.id,
    envelope({
      type: 'history',
      ref,
      room: connection.room,
      messages: page.messages,
      more: page.more,
      ...(page.gap ? { gap: true as const } : {}),
    }),
  );
}
