import type { Connection } from '../registry/registry';
import { mapBounded } from '../util/map-bounded';
import type { ChatContext } from './context';
import { connectionTag } from './identity';
import { envelope, ProtocolError, type MemberEntry } from './protocol';
import { createRateLimiter } from './rate-limiter';

/**
 * The `members` command: who is in the sender's room, a page at a time.
 *
 * Cost per call: one COS LIST of at most MEMBERS_PAGE keys (the page starts at the cursor, so a deep page costs
 * no more than the first), plus one GET per live member on it for the nick and tag (their connection records),
 * at most MEMBERS_PAGE (a client may ask for fewer with `limit`). A connection may ask once every
 * MEMBERS_INTERVAL_S seconds (bursts of MEMBERS_BURST), per warm container like the message rate, so walking a
 * room of N costs N/50 LISTs and N GETs, and takes a while.
 */

export const MEMBERS_PAGE = 50;
const MEMBERS_INTERVAL_S = 2;
const MEMBERS_BURST = 5;
const READ_CONCURRENCY = 16;

export function createMembersCommand(ctx: ChatContext) {
  const limiter = createRateLimiter(1 / MEMBERS_INTERVAL_S, MEMBERS_BURST);
  return async function members(
    sender: Connection,
    options: { after?: string; limit?: number; ref?: string },
  ): Promise<void> {
    const { after, ref } = options;
    if (!limiter.take(sender.id, ctx.clock())) {
      throw new ProtocolError(
        'rate_limited',
        `members: at most one page every ${MEMBERS_INTERVAL_S} s; try again shortly`,
        ref,
      );
    }
    if (after !== undefined && (after.length === 0 || after.length > 256)) {
      throw new ProtocolError('invalid_cursor', '"after" must be the "next" of a previous members page', ref);
    }
    const limit = Math.min(options.limit ?? MEMBERS_PAGE, MEMBERS_PAGE);
    const page = await ctx.registry.memberPage(sender.room, { after, limit });
    const oldest = ctx.clock() - ctx.settings.limits.connectionTtlMs;
    const live = page.members.filter((m) => m.lastSeen >= oldest || m.id === sender.id);
    const records = await mapBounded(live, READ_CONCURRENCY, (m) => ctx.registry.find(m.id));
    const entries: MemberEntry[] = records.flatMap((record) =>
      // A record gone or moved since the listing: that member is not here any more.
      record && record.room === sender.room ? [{ nick: record.nick, tag: connectionTag(record) }] : [],
    );
    await ctx.reply(
      sender.id,
      envelope({
        type: 'members',
        ref,
        room: sender.room,
        members: entries,
        ...(page.next === undefined ? {} : { next: page.next }),
      }),
    );
  };
}
