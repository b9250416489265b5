import { mapBounded } from '../util/map-bounded';
import { fullListingInterval, rosterOverlap, type ChatContext } from './context';

export interface SweepReport {
  staleConnections: number;
  orphanRecords: number;
  expiredMessages: number;
  /** Room log entries old enough that no roster will list them again. */
  trimmedLogEntries: number;
}

/**
 * Room log entries are kept this long. A roster catches up from its previous catch-up (less the overlap) and
 * lists the room in full at least every fullListingInterval, so nobody needs an older entry; the margin is
 * generous because keeping an entry costs nothing but one key in the sweep's listing.
 */
export function roomLogRetention(connectionTtlMs: number, overlapMs: number): number {
  return Math.max(10 * 60_000, 2 * (fullListingInterval(connectionTtlMs) + overlapMs));
}

const SWEEP_CLOSE_CONCURRENCY = 16;

/**
 * Removes what cleanup missed: members not seen within the TTL (the gateway does not promise a cleanup event
 * for idle timeouts or dropped networks), records left without a membership, old history and old room log.
 */
export async function sweep(ctx: ChatContext): Promise<SweepReport> {
  const { registry } = ctx;
  const cutoff = ctx.clock() - ctx.settings.limits.connectionTtlMs;
  const stale: Array<{ id: string; room: string }> = [];
  const members = new Set<string>();
  for await (const page of registry.allMembers()) {
    for (const member of page) {
      if (member.lastSeen < cutoff) stale.push({ id: member.id, room: member.room });
      else members.add(member.id);
    }
  }
  // Records with no live membership: stale ones (removed just below) and leftovers of failed cleanups.
  // A live connection rewrites its record on every heartbeat, so an old record here is not a live one.
  const orphans: Array<{ id: string }> = [];
  for await (const page of registry.allRecords()) {
    for (const record of page) if (!members.has(record.id) && record.lastSeen < cutoff) orphans.push(record);
  }
  await registry.leave(stale);
  await registry.remove(orphans);
  // Tell the gateway too, in case the socket is still open: the client then reconnects and re-registers.
  const deadline = ctx.pushDeadline();
  await mapBounded(stale, SWEEP_CLOSE_CONCURRENCY, (s) => ctx.push.close(s.id, { deadline }));
  const expiredMessages = await ctx.history.trim();
  const trimmedLogEntries = await registry.trimRoomLogs(
    ctx.clock() - roomLogRetention(ctx.settings.limits.connectionTtlMs, rosterOverlap(ctx.settings)),
  );
  const staleIds = new Set(stale.map((s) => s.id));
  const report = {
    staleConnections: stale.length,
    orphanRecords: orphans.filter((o) => !staleIds.has(o.id)).length,
    expiredMessages,
    trimmedLogEntries,
  };
  ctx.log.info('sweep', { ...report });
  return report;
}
