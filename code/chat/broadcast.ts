import type { ConnectionRegistry, Member } from '../registry/registry';
import type { PushClient, PushOutcome } from '../push/push-client';
import { mapBounded } from '../util/map-bounded';
import { errorMessage, type Logger } from './log';

export interface BroadcastPorts {
  registry: ConnectionRegistry;
  push: PushClient;
  log: Logger;
}

export interface RosterOptions {
  room: string;
  /** The sender: counted as online, never pushed to. */
  exclude?: string;
  now: number;
  ttlMs: number;
}

/** A room as one listing saw it: who to push to, who to prune, and the sender's own entry if it was there. */
export interface Roster {
  room: string;
  live: Member[];
  stale: Member[];
  excluded?: Member;
  online: number;
}

export interface FanOutOptions {
  now: number;
  concurrency: number;
  /**
   * A member registered this recently is not pruned when the gateway says gone: register stores the connection
   * before the gateway completes the handshake, and a push in between finds no socket yet.
   */
  handshakeGraceMs: number;
  /** Epoch ms; pushes not started by then count as failed, so the function returns before it times out. */
  deadline: number;
}

export type BroadcastOptions = RosterOptions & FanOutOptions & { frame: (online: number) => string };

export interface BroadcastResult {
  delivered: number;
  gone: number;
  failed: number;
  online: number;
}

/** Lists the room, every page, and sorts its members into live and stale (not seen within the TTL). */
export async function readRoster(registry: ConnectionRegistry, options: RosterOptions): Promise<Roster> {
  const roster: Roster = { room: options.room, live: [], stale: [], online: 0 };
  for await (const page of registry.members(options.room)) {
    for (const member of page) {
      if (member.id === options.exclude) roster.excluded = member;
      else if (member.lastSeen < options.now - options.ttlMs) roster.stale.push(member);
      else roster.live.push(member);
    }
  }
  // The sender is online even when an eventually consistent listing does not show it yet.
  roster.online = roster.live.length + (options.exclude === undefined ? 0 : 1);
  return roster;
}

/**
 * Pushes one frame to every live member with bounded concurrency, then prunes the stale and the ones the gateway
 * reports gone (their memberships; see registry.leave). A gone connection is an ordinary outcome.
 */
export async function fanOut(
  ports: BroadcastPorts,
  roster: Roster,
  frame: string,
  options: FanOutOptions,
): Promise<BroadcastResult> {
  const outcomes = await mapBounded(roster.live, options.concurrency, (member): Promise<PushOutcome> => {
    if (Date.now() >= options.deadline) return Promise.resolve('failed');
    return ports.push.send(member.id, frame, { deadline: options.deadline });
  });
  const result: BroadcastResult = { delivered: 0, gone: 0, failed: 0, online: roster.online };
  const prune = roster.stale.map(({ id }) => ({ id, room: roster.room }));
  outcomes.forEach((outcome, index) => {
    result[outcome] += 1;
    const member = roster.live[index]!;
    if (outcome === 'gone' && options.now - member.lastSeen >= options.handshakeGraceMs) {
      prune.push({ id: member.id, room: roster.room });
    }
  });
  // Recipients the gateway does not know are not online, whether or not they are pruned yet.
  result.online -= result.gone;
  if (prune.length > 0) {
    try {
      await ports.registry.leave(prune);
    } catch (error) {
      // The sweep or the next broadcast tries again.
      ports.log.warn('prune_failed', { room: roster.room, count: prune.length, error: errorMessage(error) });
    }
  }
  return result;
}

/** List the room, then fan out a frame that may mention the online count. */
export async function broadcastToRoom(
  ports: BroadcastPorts,
  options: BroadcastOptions,
): Promise<BroadcastResult> {
  const roster = await readRoster(ports.registry, options);
  return fanOut(ports, roster, options.frame(roster.online), options);
}
