import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { connectTag } from './identity';
import { errorMessage } from './log';
import { decodeContext, encodeContext } from './connection-context';
import { announce } from './presence';
import { readConnectOptions } from './protocol';
import type { CloseRequest, ConnectOutcome, ConnectRequest } from './requests';
import { normalizeNick, normalizeRoom } from './rules';
import { verifyToken } from './token';

/**
 * A client's handshake: who it is (its token when access control is on, else what it asked for), stored before
 * it is admitted. Nothing else: the room is neither read nor told here, so a handshake costs the same in a room
 * of one or of 10,000. The room hears of the client when it sends its first `join` (commands.ts).
 */
export async function connect(ctx: ChatContext, request: ConnectRequest): Promise<ConnectOutcome> {
  const { settings, log } = ctx;
  const options = readConnectOptions(request.protocols);
  let { room, nick } = options;
  if (options.malformed !== undefined) {
    log.warn('connect_refused', { connection: request.connectionId, reason: options.malformed });
    return { ok: false, refusal: 'invalid', message: options.malformed };
  }
  let tokenNick: string | undefined;
  if (settings.authSecret !== undefined) {
    const check = verifyToken(settings.authSecret, options.token, ctx.clock());
    if (!check.ok) {
      log.warn('connect_refused', { connection: request.connectionId, reason: check.reason });
      return { ok: false, refusal: 'unauthorized', message: `unauthorized: ${check.reason}` };
    }
    // The token decides who you are and where you may be, not the client.
    room = check.claims.room;
    nick = check.claims.nick;
    tokenNick = nick;
  }
  let connection: Connection;
  try {
    const tag = connectTag(settings.tagKey, request.connectionId, { tokenNick, key: options.key });
    connection = {
      id: request.connectionId,
      room: normalizeRoom(room ?? settings.defaultRoom),
      nick: nick ? normalizeNick(nick, settings.limits.maxNickLength) : `guest-${tag}`,
      connectedAt: ctx.clock(),
      tag,
    };
  } catch (error) {
    log.warn('connect_refused', { connection: request.connectionId, reason: errorMessage(error) });
    return { ok: false, refusal: 'invalid', message: errorMessage(error) };
  }
  try {
    await ctx.registry.add(connection);
  } catch (error) {
    // Refuse rather than admit a client nobody could reach.
    log.error('register_failed', { connection: request.connectionId, error: errorMessage(error) });
    return { ok: false, refusal: 'unavailable', message: 'connection registry unavailable, try again' };
  }
  log.info('connected', { connection: connection.id, room: connection.room });
  return { ok: true, protocol: options.protocol, context: encodeContext(connection) };
}

/**
 * The client closed: its objects are removed (the leave logged) and its room told, unless it never spoke (the
 * room was never told it arrived). Removing twice is fine. The record the gateway held spares a read.
 */
export async function disconnect(
  ctx: ChatContext,
  { connectionId, silent, context }: CloseRequest,
): Promise<void> {
  const connection = decodeContext(connectionId, context) ?? (await ctx.registry.find(connectionId));
  await ctx.registry.remove([{ id: connectionId, room: connection?.room }]);
  ctx.log.info('disconnected', { connection: connectionId, room: connection?.room });
  if (connection) {
    ctx.rosters.forget(connection.room, [connectionId]);
    if (!silent) await announce(ctx, connection, 'leave');
  }
}
