import type { Member } from '../registry/registry';
import type { ChatContext } from './context';

/** A room as one listing saw it: who to push to, who to prune, and the sender's own entry if it was there. */
export interface Roster {
  room: string;
  live: Member[];
  stale: Member[];
  /** The sender's own membership, when the listing showed it. */
  excluded?: Member;
  /** Live members plus the sender. */
  online: number;
}

/**
 * Lists the room, every page, and sorts its members into live and stale (not seen within the TTL).
 * `sender`, if given, is counted as online but never pushed to.
 */
export async function readRoster(ctx: ChatContext, room: string, sender?: string): Promise<Roster> {
  const oldest = ctx.clock() - ctx.settings.limits.connectionTtlMs;
  const roster: Roster = { room, live: [], stale: [], online: 0 };
  for await (const page of ctx.registry.members(room)) {
    for (const member of page) {
      if (member.id === sender) roster.excluded = member;
      else if (member.lastSeen < oldest) roster.stale.push(member);
      else roster.live.push(member);
    }
  }
  // The sender is online even when an eventually consistent listing does not show it yet.
  roster.online = roster.live.length + (sender === undefined ? 0 : 1);
  return roster;
}

export async function countOnline(ctx: ChatContext, room: string): Promise<number> {
  return (await readRoster(ctx, room)).online;
}
