import { createKeyedScope } from '../util/keyed-scope';
import { createLru } from '../util/lru';
import type { Connection } from '../registry/registry';
import { decodeContext, encodeContext } from './connection-context';
import type { ChatContext } from './context';
import { joinAck } from './presence';
import { ProtocolError } from './protocol';
import { countOnline, readRoster, type Roster } from './roster';
import { guestNick } from './rules';

/** Connections one warm container remembers; past this, the least recently used is forgotten. */
const MAX_KNOWN_SENDERS = 10_000;
/** A client sends its first `join` right after connecting; one much later is a catch-up, not an arrival. */
const FIRST_JOIN_WINDOW_MS = 60_000;

export interface Senders {
  /**
   * The sender's record. If it is gone (the client was silent past the TTL and the sweep removed it), it is
   * re-created in the default room with a guest name, and the client is told so with an unsolicited join ack.
   */
  recordOf(connectionId: string): Promise<Connection>;
  /**
   * Who is sending, and the room's roster when it was read on the way (undefined if not, or if it failed).
   * A sender this container has seen is confirmed by the listing itself: its membership must be in the
   * remembered room with the version of the remembered nick (COS's ETag of the membership body). That saves a
   * read of the sender's record on most messages; when the check fails, the record is read as usual.
   */
  identify(connectionId: string): Promise<{ sender: Connection; roster?: Roster }>;
  /** Records a connection's new nick or room in this container's memory. */
  remember(connection: Connection): Connection;
  /**
   * Whether this `join` of the room the connection is already in is its first, i.e. its arrival to announce:
   * both our clients send one on every connect. Judged without a write: the connection is less than a minute
   * old, and this container has not announced it already.
   */
  firstJoin(connection: Connection, now: number): boolean;
  /**
   * Runs `handle` (one frame of the connection) with the record the gateway handed in, if any
   * (FrameRequest.context), as the sender's record: newer than any cache, and no read. Resolves to the record's
   * context when it changed while handling (or was read, none having been handed in), for the gateway to keep.
   */
  handling(
    connectionId: string,
    context: string | undefined,
    handle: () => Promise<void>,
  ): Promise<string | undefined>;
}

/** The sender cache of one chat service (one warm container). */
export function createSenders(ctx: ChatContext): Senders {
  const known = createLru<string, Connection>(MAX_KNOWN_SENDERS);
  const announced = createLru<string, true>(MAX_KNOWN_SENDERS);
  // The sender of each frame being handled, by connection: the gateway hands a connection's frames over one at a
  // time, so invocations running side by side never share an entry.
  const handled = createKeyedScope<{ record?: Connection }>();

  function remember(connection: Connection): Connection {
    known.set(connection.id, connection);
    const frame = handled.get(connection.id);
    if (frame) frame.record = connection;
    return connection;
  }

  async function recordOf(connectionId: string): Promise<Connection> {
    const frame = handled.get(connectionId);
    if (frame?.record) return frame.record;
    const record = await readRecord(connectionId);
    if (frame) frame.record = record;
    return record;
  }

  async function readRecord(connectionId: string): Promise<Connection> {
    const found = await ctx.registry.find(connectionId);
    if (found) return found;
    if (ctx.settings.authSecret !== undefined) {
      // Its identity came from a token we no longer have: it must reconnect (receive asks the gateway to close).
      throw new ProtocolError(
        'not_registered',
        'this connection is no longer registered; reconnect with your token',
      );
    }
    const connection: Connection = {
      id: connectionId,
      room: ctx.settings.defaultRoom,
      nick: guestNick(connectionId),
      connectedAt: ctx.clock(),
    };
    await ctx.registry.add(connection);
    ctx.log.info('connection_restored', { connection: connectionId, room: connection.room });
    await ctx.reply(
      connectionId,
      joinAck('join', connection, undefined, await countOnline(ctx, connection.room)),
    );
    return connection;
  }

  async function identify(connectionId: string): Promise<{ sender: Connection; roster?: Roster }> {
    const given = handled.get(connectionId)?.record;
    if (given) {
      const roster = await readRoster(ctx, given.room, connectionId).catch(() => undefined);
      return { sender: remember(given), roster };
    }
    const remembered = known.get(connectionId);
    let listed: Roster | undefined;
    if (remembered) {
      listed = await readRoster(ctx, remembered.room, connectionId).catch(() => undefined);
      if (listed?.excluded?.version === ctx.registry.versionOf(remembered)) {
        return { sender: remembered, roster: listed };
      }
    }
    const sender = remember(await recordOf(connectionId));
    return { sender, roster: listed?.room === sender.room ? listed : undefined };
  }

  function firstJoin(connection: Connection, now: number): boolean {
    if (now - connection.connectedAt > FIRST_JOIN_WINDOW_MS) return false;
    if (announced.get(connection.id)) return false;
    announced.set(connection.id, true);
    return true;
  }

  async function handling(
    connectionId: string,
    context: string | undefined,
    handle: () => Promise<void>,
  ): Promise<string | undefined> {
    const frame = await handled.run(connectionId, { record: decodeContext(connectionId, context) }, handle);
    const latest = frame?.record && encodeContext(frame.record);
    return latest === context ? undefined : latest;
  }

  return { recordOf, identify, remember, firstJoin, handling };
}
