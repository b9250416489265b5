import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { fanOut } from './delivery';
import { errorMessage } from './log';
import { envelope } from './protocol';
import { countMaxAge, liveIds, readRoster } from './roster';
import { connectionTag } from './identity';

export type PresenceEvent = 'join' | 'leave' | 'nick';

interface Pending {
  connection: Connection;
  event: PresenceEvent;
  previous?: string;
}

/** One room's presence in one container: events waiting for the fan-out in flight to end. */
interface RoomQueue {
  waiting: Pending[];
  running?: Promise<unknown>;
  next?: Promise<number | undefined>;
}

const queues = new WeakMap<ChatContext, Map<string, RoomQueue>>();

/**
 * Tells the room someone joined, left or was renamed; resolves to the room's online count once the room was told,
 * or undefined when the room could not be read (presence is best effort: a failure is logged, never thrown).
 *
 * Coalesced: while one presence fan-out to a room is in flight, the room's next events wait and then go out
 * together as one `batch` frame, so a crowd arriving at once costs a push per member per fan-out, not per
 * arrival. Every caller waits for the fan-out that carries its event: nothing is left pending when a function
 * returns (a frozen container runs nothing). Rooms above PRESENCE_MAX_ONLINE get no lines at all, only counts
 * (in acks and messages): that bounds what a crowd of any size costs in presence to O(N) pushes.
 */
export function announce(
  ctx: ChatContext,
  connection: Connection,
  event: PresenceEvent,
  previous?: string,
): Promise<number | undefined> {
  let rooms = queues.get(ctx);
  if (!rooms) queues.set(ctx, (rooms = new Map()));
  const room = connection.room;
  let queue = rooms.get(room);
  if (!queue) rooms.set(room, (queue = { waiting: [] }));
  const q = queue;
  q.waiting.push({ connection, event, previous });
  q.next ??= Promise.resolve(q.running)
    .catch(() => undefined)
    .then(() => {
      const batch = q.waiting;
      q.waiting = [];
      q.next = undefined;
      const run = tellRoom(ctx, room, batch);
      q.running = run;
      void run.finally(() => {
        if (q.running === run) q.running = undefined;
        if (!q.running && !q.next) rooms.delete(room);
      });
      return run;
    });
  return q.next;
}

/** One fan-out of `batch` (events of one room, in order); the room's online count after them. */
async function tellRoom(ctx: ChatContext, room: string, batch: Pending[]): Promise<number | undefined> {
  try {
    const roster = await readRoster(ctx, room, undefined, countMaxAge(ctx, room));
    // Who is in the room after the batch, for those it names (their last event counts).
    const after = new Map<string, boolean>();
    for (const { connection, event } of batch) after.set(connection.id, event !== 'leave');
    const live = liveIds(ctx, roster);
    let online = roster.live.length;
    for (const [id, present] of after) {
      if (present && !live.has(id)) online += 1;
      else if (!present && live.has(id)) online -= 1;
    }
    // Large rooms get counts (in acks and messages) but no presence lines; see ChatLimits.presenceMaxOnline.
    // The count costs the batch, not the room: the live ids are built once per roster read.
    if (online > ctx.settings.limits.presenceMaxOnline) return online;
    // Whoever the batch is about hears of it otherwise (its own ack) or not at all (it left).
    const recipients = { ...roster, live: roster.live.filter((m) => !after.has(m.id)), online };
    const result = await fanOut(ctx, recipients, presenceFrame(ctx, room, batch, online));
    return result.online;
  } catch (error) {
    ctx.log.warn('presence_failed', { room, events: batch.length, error: errorMessage(error) });
    return undefined;
  }
}

/** One event keeps its own frame; several make one `batch` frame (docs/protocol.md). */
function presenceFrame(ctx: ChatContext, room: string, batch: Pending[], online: number): string {
  const ts = ctx.clock();
  if (batch.length === 1) {
    const { connection, event, previous } = batch[0]!;
    return envelope({
      type: 'presence',
      event,
      room,
      nick: connection.nick,
      tag: connectionTag(connection),
      ...(previous === undefined ? {} : { previous }),
      online,
      ts,
    });
  }
  const who = ({ connection }: Pending) => ({ nick: connection.nick, tag: connectionTag(connection) });
  return envelope({
    type: 'presence',
    event: 'batch',
    room,
    joined: batch.filter((p) => p.event === 'join').map(who),
    left: batch.filter((p) => p.event === 'leave').map(who),
    renamed: batch.filter((p) => p.event === 'nick').map((p) => ({ ...who(p), previous: p.previous ?? '' })),
    online,
    ts,
  });
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
