import type { Connection } from '../registry/registry';
import type { ChatContext } from './context';
import { HISTORY_PAGE, sendHistory } from './history-paging';
import { createMembersCommand } from './members';
import { announce, joinAck } from './presence';
import { envelope, ProtocolError, type ClientCommand } from './protocol';
import { countOnline, touch } from './roster';
import { checkText, normalizeNick, normalizeRoom } from './rules';
import { sendMessage } from './send-message';
import type { Senders } from './senders';
import { createTypingCommand } from './typing';
import { createUnreadCommand } from './unread';

type CommandType = ClientCommand['type'];
type CommandOf<T extends CommandType> = Extract<ClientCommand, { type: T }>;

/** One handler per client command: what the sender asked, run on behalf of `connectionId`. */
export type CommandTable = {
  [T in CommandType]: (connectionId: string, command: CommandOf<T>) => Promise<void>;
};

export function runCommand(table: CommandTable, connectionId: string, command: ClientCommand): Promise<void> {
  // TypeScript cannot correlate the table entry with the command's type; the mapped type above guarantees it.
  const handler = table[command.type] as (connectionId: string, command: ClientCommand) => Promise<void>;
  return handler(connectionId, command);
}

/** With access control on, the token fixed the nick and room; joining the room you are in (to catch up) is fine. */
function checkTokenAllows(ctx: ChatContext, sender: Connection, command: CommandOf<'nick' | 'join'>): void {
  if (ctx.settings.authSecret === undefined) return;
  if (command.type === 'join' && (command.room ?? sender.room).trim().toLowerCase() === sender.room) return;
  throw new ProtocolError(
    'forbidden',
    'with access control on, your name and room come from your token',
    command.ref,
  );
}

export function createCommandTable(ctx: ChatContext, senders: Senders): CommandTable {
  const { registry, settings } = ctx;
  const listMembers = createMembersCommand(ctx);
  const typing = createTypingCommand(ctx, senders);
  const countUnread = createUnreadCommand(ctx);
  return {
    async members(connectionId, command) {
      await listMembers(await senders.recordOf(connectionId), command);
    },

    typing: (connectionId) => typing(connectionId),

    async unread(connectionId, command) {
      await countUnread(await senders.recordOf(connectionId), command);
    },

    async ping(connectionId, { ref }) {
      const sender = await senders.recordOf(connectionId);
      await touch(ctx, sender);
      await ctx.reply(connectionId, envelope({ type: 'pong', ref, ts: ctx.clock() }));
    },

    async message(connectionId, { text, cid, ref }) {
      await sendMessage(ctx, senders, connectionId, {
        text: checkText(text, settings.limits.maxMessageBytes, ref),
        cid,
        ref,
      });
    },

    async history(connectionId, { since, before, limit, ref }) {
      await sendHistory(ctx, await senders.recordOf(connectionId), { since, before, limit, ref });
    },

    async nick(connectionId, command) {
      const sender = await senders.recordOf(connectionId);
      checkTokenAllows(ctx, sender, command);
      const nick = normalizeNick(command.nick, settings.limits.maxNickLength, command.ref);
      const renamed = { ...sender, nick };
      if (nick !== sender.nick) {
        await registry.update(renamed, sender.room);
        senders.remember(renamed);
        await announce(ctx, renamed, 'nick', sender.nick);
      }
      await ctx.reply(
        connectionId,
        joinAck('nick', renamed, command.ref, await countOnline(ctx, renamed.room)),
      );
    },

    async join(connectionId, command) {
      const sender = await senders.recordOf(connectionId);
      checkTokenAllows(ctx, sender, command);
      const { ref } = command;
      const room = command.room === undefined ? sender.room : normalizeRoom(command.room, ref);
      const moved = { ...sender, room };
      let online: number | undefined;
      if (room !== sender.room) {
        await registry.update(moved, sender.room);
        senders.remember(moved);
        ctx.rosters.forget(sender.room, [connectionId]);
        await announce(ctx, sender, 'leave');
        online = await announce(ctx, moved, 'join');
      } else if (senders.firstJoin(sender, ctx.clock())) {
        // The handshake told nobody: a client's first join of the room it connected to is its arrival.
        online = await announce(ctx, moved, 'join');
      }
      await ctx.reply(connectionId, joinAck('join', moved, ref, online ?? (await countOnline(ctx, room))));
      // Re-joining the same room is how a client catches up: only then does its cursor apply.
      const since = room === sender.room ? command.since : undefined;
      await sendHistory(ctx, moved, { since, limit: HISTORY_PAGE, ref });
    },
  };
}
