import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'crypto';
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

/**
 * The `next` cursor names the last member listed, a connection ID, which other clients have no business seeing:
 * it goes out sealed (AES-256-GCM under a key derived from the tag key) and only comes back in if unchanged.
 */
function cursorCodec(tagKey: string | undefined) {
  const key = createHash('sha256')
    .update(`wschat members cursor ${tagKey ?? ''}`)
    .digest();
  return {
    seal(id: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(id, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open(cursor: string): string | undefined {
      const raw = Buffer.from(cursor, 'base64url');
      if (raw.length < 29 || raw.toString('base64url') !== cursor) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export function createMembersCommand(ctx: ChatContext) {
  const limiter = createRateLimiter(1 / MEMBERS_INTERVAL_S, MEMBERS_BURST);
  const cursors = cursorCodec(ctx.settings.tagKey);
  return async function members(
    sender: Connection,
    options: { after?: string; limit?: number; ref?: string },
  ): Promise<void> {
    const { ref } = options;
    if (!limiter.take(sender.id, ctx.clock())) {
      throw new ProtocolError(
        'rate_limited',
        `members: at most one page every ${MEMBERS_INTERVAL_S} s; try again shortly`,
        ref,
      );
    }
    const after = options.after === undefined ? undefined : cursors.open(options.after);
    if (options.after !== undefined && (options.after.length > 512 || after === undefined)) {
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
        ...(page.next === undefined ? {} : { next: cursors.seal(page.next) }),
      }),
    );
  };
}
