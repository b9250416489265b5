import type { ConnectionRegistry, Member } from '../registry/registry';
import type { PushClient, PushOutcome } from '../push/push-client';
import { mapBounded } from '../util/map-bounded';
import { errorMessage, type Logger } from './log';

export interface BroadcastPorts {
  registry: ConnectionRegistry;
  push: PushClient;
  log: Logger;
}

export interface BroadcastOptions {
  room: string;
  /** The sender: counted as online, never pushed to. */
  exclude?: string;
  /** Builds the frame once the online count is known. */
  frame: (online: number) => string;
  now: number;
  ttlMs: number;
  concurrency: number;
  /**
   * A member registered this recently is not pruned when the gateway says gone: register stores the connection
   * before the gateway completes the handshake, and a push in between finds no socket yet.
   */
  handshakeGraceMs: number;
  /** Epoch ms; pushes not started by then count as failed, so the function returns before it times out. */
  deadline: number;
}

export interface BroadcastResult {
  delivered: number;
  gone: number;
  failed: number;
  online: number;
  /** When the excluded connection was last seen, if it was in the listing. */
  excludedLastSeen?: number;
}

/**
 * List the room (every page), skip members not seen within the TTL, push to the rest with bounded concurrency,
 * and prune both the stale and the ones the gateway reports gone (their memberships; see registry.leave).
 * A gone connection is an ordinary outcome.
 */
export async function broadcastToRoom(
  ports: BroadcastPorts,
  options: BroadcastOptions,
): Promise<BroadcastResult> {
  const live: Member[] = [];
  const prune: Array<{ id: string; room: string }> = [];
  let excludedLastSeen: number | undefined;
  for await (const page of ports.registry.members(options.room)) {
    for (const member of page) {
      if (member.id === options.exclude) excludedLastSeen = member.lastSeen;
      else if (member.lastSeen < options.now - options.ttlMs)
        prune.push({ id: member.id, room: options.room });
      else live.push(member);
    }
  }
  // The sender is online even when an eventually consistent listing does not show it yet.
  const online = live.length + (options.exclude === undefined ? 0 : 1);
  const frame = options.frame(online);
  const outcomes = await mapBounded(live, options.concurrency, (member): Promise<PushOutcome> => {
    if (Date.now() >= options.deadline) return Promise.resolve('failed');
    return ports.push.send(member.id, frame, { deadline: options.deadline });
  });

  const result: BroadcastResult = { delivered: 0, gone: 0, failed: 0, online, excludedLastSeen };
  outcomes.forEach((outcome, index) => {
    result[outcome] += 1;
    const member = live[index]!;
    if (outcome === 'gone' && options.now - member.lastSeen >= options.handshakeGraceMs) {
      prune.push({ id: member.id, room: options.room });
    }
  });
  // Recipients the gateway does not know are not online, whether or not they are pruned yet.
  result.online -= result.gone;
  if (prune.length > 0) {
    try {
      await ports.registry.leave(prune);
    } catch (error) {
      // The sweep or the next broadcast tries again.
      ports.log.warn('prune_failed', { room: options.room, count: prune.length, error: errorMessage(error) });
    }
  }
  return result;
}
