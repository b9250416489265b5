import { randomBytes } from 'crypto';
import type { ChatLimits } from '../config';
import { StoreError } from '../util/store-error';
import type { Connection, ConnectionRegistry } from '../registry/registry';
import type { HistoryStore } from '../history/history';
import type { PushClient } from '../push/push-client';
import { mapBounded } from '../util/map-bounded';
import { broadcastToRoom, fanOut, readRoster, type BroadcastResult, type Roster } from './broadcast';
import { errorMessage, type Logger } from './log';
import {
  envelope,
  parseClientFrame,
  ProtocolError,
  readConnectOptions,
  type ChatMessage,
  type ClientCommand,
} from './protocol';
import type { RateLimiter } from './rate-limiter';
import { checkText, guestNick, normalizeNick, normalizeRoom, tagOf } from './rules';
import type { ConnectOutcome, ConnectRequest, FrameRequest, PublishRequest } from './requests';
import { verifyToken } from './token';

export interface ChatSettings {
  limits: ChatLimits;
  defaultRoom: string;
  authSecret?: string;
  pushConcurrency: number;
  /** How long one invocation may spend on pushes; keep it below the function timeout. */
  broadcastBudgetMs: number;
}

export interface ChatDeps {
  registry: ConnectionRegistry;
  history: HistoryStore;
  push: PushClient;
  rateLimiter: RateLimiter;
  settings: ChatSettings;
  log: Logger;
  clock?: () => number;
}

export type { ConnectOutcome };

export interface PublishResult extends BroadcastResult {
  id: string;
}

export interface SweepReport {
  staleConnections: number;
  orphanRecords: number;
  expiredMessages: number;
}

/** History page size for join and history requests. */
const HISTORY_PAGE = 50;
const SWEEP_CLOSE_CONCURRENCY = 16;
const MAX_KNOWN_SENDERS = 10_000;

let lastIdTime = 0;
let idSequence = 0;

/**
 * Time-ordered and unique: base36 milliseconds (fixed width), a per-container sequence for messages in the same
 * millisecond, then 32 random bits so that IDs from different containers never collide.
 */
export function newMessageId(now: number): string {
  idSequence = now === lastIdTime ? idSequence + 1 : 0;
  lastIdTime = now;
  return (
    now.toString(36).padStart(9, '0') +
    idSequence.toString(36).padStart(3, '0') +
    randomBytes(4).toString('hex')
  );
}

/**
 * The chat core: what happens when a client connects, sends a frame or leaves, when a backend publishes, and
 * when the sweep runs. It speaks our own types; the SCF adapters in code/functions translate Tencent events.
 */
export function createChatService(deps: ChatDeps) {
  const { registry, history, push, settings, log } = deps;
  const clock = deps.clock ?? Date.now;
  const ports = { registry, push, log };

  /** Connections this warm container has seen, so a message usually needs no read of the sender's record. */
  const knownSenders = new Map<string, Connection>();

  function remember(connection: Connection): Connection {
    knownSenders.delete(connection.id);
    knownSenders.set(connection.id, connection);
    if (knownSenders.size > MAX_KNOWN_SENDERS)
      knownSenders.delete(knownSenders.keys().next().value as string);
    return connection;
  }

  function fanOutOptions() {
    return {
      now: clock(),
      concurrency: settings.pushConcurrency,
      handshakeGraceMs: settings.limits.handshakeGraceMs,
      deadline: Date.now() + settings.broadcastBudgetMs,
    };
  }

  function roster(room: string, exclude?: string): Promise<Roster> {
    return readRoster(registry, { room, exclude, now: clock(), ttlMs: settings.limits.connectionTtlMs });
  }

  function broadcast(
    room: string,
    frame: (online: number) => string,
    exclude?: string,
  ): Promise<BroadcastResult> {
    return broadcastToRoom(ports, {
      room,
      exclude,
      frame,
      ttlMs: settings.limits.connectionTtlMs,
      ...fanOutOptions(),
    });
  }

  async function reply(connectionId: string, frame: string): Promise<void> {
    const outcome = await push.send(connectionId, frame, {
      deadline: Date.now() + settings.broadcastBudgetMs,
    });
    if (outcome !== 'delivered') log.warn('reply_not_delivered', { connection: connectionId, outcome });
  }

  /** Tells the room someone joined, left or was renamed; returns the room's online count (undefined if unknown). */
  async function announce(connection: Connection, event: 'join' | 'leave' | 'nick', previous?: string) {
    try {
      const members = await roster(connection.room, connection.id);
      // A leaving connection is no longer in the listing; one that joins is counted by the roster as the sender.
      const adjust = event === 'leave' ? -1 : 0;
      const online = members.online + adjust;
      // Large rooms get counts (in acks and messages) but no presence lines; see ChatLimits.presenceMaxOnline.
      if (online > settings.limits.presenceMaxOnline) return online;
      const frame = envelope({
        type: 'presence',
        event,
        room: connection.room,
        nick: connection.nick,
        tag: tagOf(connection.id),
        ...(previous === undefined ? {} : { previous }),
        online,
        ts: clock(),
      });
      const result = await fanOut(ports, members, frame, fanOutOptions());
      return result.online + adjust;
    } catch (error) {
      log.warn('presence_failed', { room: connection.room, event, error: errorMessage(error) });
      return undefined;
    }
  }

  /**
   * The sender's record. If it is gone (the client was silent past the TTL and the sweep removed it), it is
   * re-created in the default room with a guest name, and the client is told so with an unsolicited join ack.
   */
  async function senderOf(connectionId: string): Promise<Connection> {
    const found = await registry.find(connectionId);
    if (found) return found;
    if (settings.authSecret !== undefined) {
      // Its identity came from a token we no longer have: it must reconnect (receive() asks the gateway to close).
      throw new ProtocolError(
        'not_registered',
        'this connection is no longer registered; reconnect with your token',
      );
    }
    const connection: Connection = {
      id: connectionId,
      room: settings.defaultRoom,
      nick: guestNick(connectionId),
      connectedAt: clock(),
    };
    await registry.add(connection);
    log.info('connection_restored', { connection: connectionId, room: connection.room });
    await reply(connectionId, ackJoin('join', connection, undefined, await countOnline(connection.room)));
    return connection;
  }

  async function sendHistory(connection: Connection, since: string | undefined, limit: number, ref?: string) {
    if (since !== undefined && !/^[0-9a-z]{1,40}$/.test(since)) {
      throw new ProtocolError('invalid_cursor', '"since" must be a message id', ref);
    }
    const page = await history.recent(connection.room, { since, limit: Math.min(limit, HISTORY_PAGE) });
    await reply(
      connection.id,
      envelope({ type: 'history', ref, room: connection.room, messages: page.messages, more: page.more }),
    );
  }

  /**
   * Who is sending, and the room's roster. A sender this container has seen is confirmed by the listing itself:
   * its membership must be in the remembered room with the version of the remembered nick (COS's ETag of the
   * membership body). That saves a read of the sender's record on most messages; when the check fails, the record
   * is read as usual. The roster is undefined if the room could not be listed.
   */
  async function identify(connectionId: string): Promise<{ sender: Connection; roster?: Roster }> {
    const known = knownSenders.get(connectionId);
    let listed: Roster | undefined;
    if (known) {
      listed = await roster(known.room, connectionId).catch(() => undefined);
      if (listed?.excluded?.version === registry.versionOf(known)) return { sender: known, roster: listed };
    }
    const sender = remember(await senderOf(connectionId));
    return { sender, roster: listed?.room === sender.room ? listed : undefined };
  }

  async function sendMessage(connectionId: string, text: string, ref: string | undefined): Promise<void> {
    const { sender, roster: listed } = await identify(connectionId);
    const message: ChatMessage = {
      id: newMessageId(clock()),
      room: sender.room,
      from: sender.nick,
      tag: tagOf(sender.id),
      text,
      ts: clock(),
    };
    // Stored before it is pushed (if delivery fails, clients still find it in history); the room is listed
    // meanwhile, since neither request needs the other.
    const storing = history.append(message).then(
      () => true,
      (error: unknown) => {
        log.warn('history_write_failed', { room: sender.room, error: errorMessage(error) });
        return false;
      },
    );
    let members: Roster;
    try {
      members = listed ?? (await roster(sender.room, sender.id));
    } catch (error) {
      log.error('broadcast_failed', { room: sender.room, error: errorMessage(error) });
      const saved = (await storing) ? `message ${message.id} is saved in history, but ` : '';
      throw new ProtocolError('store_unavailable', `${saved}the room could not be read; try again`, ref);
    }
    const stored = await storing;
    const frame = envelope({ type: 'message', ...message, online: members.online });
    const result = await fanOut(ports, members, frame, fanOutOptions());
    log.info('message', {
      room: sender.room,
      id: message.id,
      delivered: result.delivered,
      gone: result.gone,
      failed: result.failed,
    });
    // A message is also a sign of life: refresh last-seen when it is half-way to the TTL (or was pruned).
    const lastSeen = members.excluded?.lastSeen;
    if (lastSeen === undefined || lastSeen < clock() - settings.limits.connectionTtlMs / 2) {
      await registry.touch(sender).catch((error) => log.warn('touch_failed', { error: errorMessage(error) }));
    }
    await reply(
      sender.id,
      envelope({
        type: 'ack',
        for: 'message',
        ref,
        id: message.id,
        delivered: result.delivered,
        failed: result.failed,
        online: result.online,
        stored,
      }),
    );
  }

  async function handleCommand(connectionId: string, command: ClientCommand): Promise<void> {
    const { ref } = command;
    if (command.type === 'ping') {
      const sender = await senderOf(connectionId);
      await registry.touch(sender);
      return reply(connectionId, envelope({ type: 'pong', ref, ts: clock() }));
    }
    if (command.type === 'message') {
      return sendMessage(connectionId, checkText(command.text, settings.limits.maxMessageBytes, ref), ref);
    }
    if (command.type === 'history') {
      return sendHistory(await senderOf(connectionId), command.since, command.limit ?? HISTORY_PAGE, ref);
    }
    const sender = await senderOf(connectionId);
    // With access control on, the token fixed the nick and room; joining the room you are in (to catch up) is fine.
    if (
      settings.authSecret !== undefined &&
      (command.type === 'nick' || command.room.trim().toLowerCase() !== sender.room)
    ) {
      throw new ProtocolError(
        'forbidden',
        'with access control on, your name and room come from your token',
        ref,
      );
    }
    if (command.type === 'nick') {
      const nick = normalizeNick(command.nick, settings.limits.maxNickLength, ref);
      const previous = sender.nick;
      const renamed = { ...sender, nick };
      if (nick !== previous) {
        await registry.update(renamed, sender.room);
        remember(renamed);
        await announce(renamed, 'nick', previous);
      }
      return reply(connectionId, ackJoin('nick', renamed, ref, await countOnline(renamed.room)));
    }
    // join
    const room = normalizeRoom(command.room, ref);
    const moved = { ...sender, room };
    let online: number | undefined;
    if (room !== sender.room) {
      await registry.update(moved, sender.room);
      remember(moved);
      await announce(sender, 'leave');
      online = await announce(moved, 'join');
    }
    await reply(connectionId, ackJoin('join', moved, ref, online ?? (await countOnline(room))));
    return sendHistory(moved, room === sender.room ? command.since : undefined, HISTORY_PAGE, ref);
  }

  function ackJoin(
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
      tag: tagOf(connection.id),
      online,
    });
  }

  async function countOnline(room: string): Promise<number> {
    return (await roster(room)).online;
  }

  return {
    async connect(request: ConnectRequest): Promise<ConnectOutcome> {
      const options = readConnectOptions(request.protocols);
      let room = options.room;
      let nick = options.nick;
      if (settings.authSecret !== undefined) {
        const check = verifyToken(settings.authSecret, options.token, clock());
        if (!check.ok) {
          log.warn('connect_refused', { connection: request.connectionId, reason: check.reason });
          return { ok: false, refusal: 'unauthorized', message: `unauthorized: ${check.reason}` };
        }
        // The token decides who you are and where you may be, not the client.
        room = check.claims.room;
        nick = check.claims.nick;
      }
      let connection: Connection;
      try {
        connection = {
          id: request.connectionId,
          room: normalizeRoom(room ?? settings.defaultRoom),
          nick: nick ? normalizeNick(nick, settings.limits.maxNickLength) : guestNick(request.connectionId),
          connectedAt: clock(),
        };
      } catch (error) {
        log.warn('connect_refused', { connection: request.connectionId, reason: errorMessage(error) });
        return { ok: false, refusal: 'invalid', message: errorMessage(error) };
      }
      try {
        await registry.add(connection);
      } catch (error) {
        // Refuse rather than admit a client nobody could reach.
        log.error('register_failed', { connection: request.connectionId, error: errorMessage(error) });
        return { ok: false, refusal: 'unavailable', message: 'connection registry unavailable, try again' };
      }
      log.info('connected', { connection: connection.id, room: connection.room });
      await announce(connection, 'join');
      return { ok: true, protocol: options.protocol };
    },

    /** Never throws: any failure becomes an error envelope to the sender. */
    async receive(frame: FrameRequest): Promise<void> {
      let ref: string | undefined;
      try {
        if (frame.frameType === 'binary') {
          throw new ProtocolError('binary_unsupported', 'binary frames are not supported; send text or JSON');
        }
        // Reject huge frames before parsing them: JSON.parse of megabytes costs memory and time.
        const maxFrame = settings.limits.maxMessageBytes * 2 + 1024;
        if (frame.data.length > maxFrame) {
          // Not parsed, but the client's ref, if it leads the frame, still lets it match the error.
          ref = /^\s*\{[^{]{0,200}?"ref"\s*:\s*"([^"\\]{1,64})"/.exec(frame.data)?.[1];
          throw new ProtocolError('too_large', `frame is longer than ${maxFrame} characters`, ref);
        }
        const command = parseClientFrame(frame.data);
        ref = command.ref;
        if (!deps.rateLimiter.take(frame.connectionId, clock())) {
          throw new ProtocolError('rate_limited', 'too many messages; slow down', ref);
        }
        await handleCommand(frame.connectionId, command);
      } catch (error) {
        const known = error instanceof ProtocolError;
        const storage = error instanceof StoreError;
        if (!known)
          log.error('transport_failed', { connection: frame.connectionId, error: errorMessage(error) });
        const code = known ? error.code : storage ? 'store_unavailable' : 'internal';
        const message = known
          ? error.message
          : storage
            ? 'storage is busy or unreachable; nothing was sent, try again'
            : 'the server could not handle this message; try again';
        await reply(
          frame.connectionId,
          envelope({ type: 'error', code, message, ref: known ? (error.ref ?? ref) : ref }),
        ).catch((replyError) => log.error('error_reply_failed', { error: errorMessage(replyError) }));
        if (code === 'not_registered') await push.close(frame.connectionId);
      }
    },

    /** Answers an event the gateway sent but we could not read (e.g. no data): the sender learns why. */
    async rejectEvent(connectionId: string, reason: string): Promise<void> {
      await reply(connectionId, envelope({ type: 'error', code: 'bad_frame', message: reason })).catch(
        (error) => log.error('error_reply_failed', { error: errorMessage(error) }),
      );
    },

    async disconnect(connectionId: string): Promise<void> {
      const connection = await registry.find(connectionId);
      await registry.remove([{ id: connectionId, room: connection?.room }]);
      log.info('disconnected', { connection: connectionId, room: connection?.room });
      if (connection) await announce(connection, 'leave');
    },

    async publish(input: PublishRequest): Promise<PublishResult> {
      const room = normalizeRoom(input.room);
      const text = checkText(input.text, settings.limits.maxMessageBytes);
      const from = normalizeNick(input.from ?? 'api', settings.limits.maxNickLength);
      const now = clock();
      const message: ChatMessage = {
        id: newMessageId(now),
        room,
        from,
        tag: 'api',
        text,
        ts: now,
        source: 'api',
      };
      await history.append(message);
      const result = await broadcast(room, (online) => envelope({ type: 'message', ...message, online }));
      log.info('published', { room, id: message.id, delivered: result.delivered });
      return { id: message.id, ...result };
    },

    /**
     * Removes what cleanup missed: members not seen within the TTL (the gateway does not promise a cleanup
     * event for idle timeouts or dropped networks), records left without a membership, and old history.
     */
    async sweep(): Promise<SweepReport> {
      const cutoff = clock() - settings.limits.connectionTtlMs;
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
        for (const record of page)
          if (!members.has(record.id) && record.lastSeen < cutoff) orphans.push(record);
      }
      await registry.leave(stale);
      await registry.remove(orphans);
      // Tell the gateway too, in case the socket is still open: the client then reconnects and re-registers.
      const deadline = Date.now() + settings.broadcastBudgetMs;
      await mapBounded(stale, SWEEP_CLOSE_CONCURRENCY, (s) => push.close(s.id, { deadline }));
      const expiredMessages = await history.trim();
      const staleIds = new Set(stale.map((s) => s.id));
      const report = {
        staleConnections: stale.length,
        orphanRecords: orphans.filter((o) => !staleIds.has(o.id)).length,
        expiredMessages,
      };
      log.info('sweep', { ...report });
      return report;
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;
