import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { fanOut } from './delivery';
import { errorMessage } from './log';
import { envelope } from './protocol';
import { readRoster } from './roster';
import { connectionTag } from './identity';

export type PresenceEvent = 'join' | 'leave' | 'nick';

/**
 * Tells the room someone joined, left or was renamed; returns the room's online count, or undefined when the
 * room could not be read (presence is best effort: a failure is logged, never thrown).
 */
export async function announce(
  ctx: ChatContext,
  connection: Connection,
  event: PresenceEvent,
  previous?: string,
): Promise<number | undefined> {
  try {
    const members = await readRoster(ctx, connection.room, connection.id);
    // A leaving connection is no longer in the listing; one that joins is counted by the roster as the sender.
    const adjust = event === 'leave' ? -1 : 0;
    const online = members.online + adjust;
    // Large rooms get counts (in acks and messages) but no presence lines; see ChatLimits.presenceMaxOnline.
    if (online > ctx.settings.limits.presenceMaxOnline) return online;
    const frame = envelope({
      type: 'presence',
      event,
      room: connection.room,
      nick: connection.nick,
      tag: connectionTag(connection),
      ...(previous === undefined ? {} : { previous }),
      online,
      ts: ctx.clock(),
    });
    const result = await fanOut(ctx, members, frame);
    return result.online + adjust;
  } catch (error) {
    ctx.log.warn('presence_failed', { room: connection.room, event, error: errorMessage(error) });
    return undefined;
  }
}

/** The answer to a join or nick command (also sent unasked when a lost record is restored). */
export function joinAck(
  kind: 'join' | 'nick',
  connection: Connection,
  ref: string | undefined,
  online: number,
): string {
  return envelope({
    type: 'ack',
    for: kind,
    ref,
    room: connection.room,
    nick: connection.nick,
    tag: connectionTag(connection),
    online,
  });
}
