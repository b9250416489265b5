import type { SessionEvent } from '../../code/client/session';
import type { PresenceFrame } from '../../code/client/envelope';
import {
  formatError,
  formatJoined,
  formatMessage,
  formatNotice,
  formatPresence,
  formatRenamed,
  sanitize,
} from './format';

/**
 * The terminal face: turns what the shared client session (code/client/session.ts) reports into lines, the
 * room's on stdout and status and errors on stderr. No protocol state lives here.
 */

export interface Lines {
  out: string[];
  err: string[];
}

function presenceLine(presence: PresenceFrame, now: number): string | undefined {
  const { event, room, nick, tag, online } = presence;
  const ts = presence.ts ?? now;
  if (
    (event === 'join' || event === 'leave' || event === 'nick') &&
    room &&
    nick &&
    tag &&
    online !== undefined
  )
    return formatPresence({ event, room, nick, tag, online, ts, previous: presence.previous });
  // An event this client does not know (e.g. a batch of joins and leaves): the count is what it can show.
  return online === undefined ? undefined : formatNotice(ts, `${online} online`);
}

export function renderEvent(event: SessionEvent, now: number): Lines {
  const out: string[] = [];
  const err: string[] = [];
  switch (event.type) {
    case 'joined':
      out.push(formatJoined(now, event));
      break;
    case 'renamed':
      out.push(formatRenamed(now, event));
      break;
    case 'messages':
      if (event.place === 'older' && event.messages.length > 0)
        out.push(formatNotice(now, `${event.messages.length} older messages`));
      for (const message of event.messages) out.push(formatMessage(message));
      break;
    case 'gap':
      out.push(
        formatNotice(now, 'some messages you missed are older than history keeps and cannot be shown'),
      );
      break;
    case 'send': {
      const { update } = event;
      if (update.state === 'failed')
        err.push(formatError(update.code ?? 'failed', update.reason ?? 'not sent'));
      if (update.state === 'delivered' && (update.failed ?? 0) > 0)
        err.push(
          formatError(
            'partial',
            `message reached ${update.delivered} of ${update.delivered! + update.failed!} others`,
          ),
        );
      if (update.state === 'delivered' && update.stored === false)
        err.push(formatError('not_stored', 'message was sent but not saved in history'));
      break;
    }
    case 'presence': {
      const line = presenceLine(event.presence, now);
      if (line !== undefined) out.push(line);
      break;
    }
    case 'history': {
      if (event.messages.length === 0) {
        out.push(formatNotice(now, `no messages in ${sanitize(event.room)}`));
        break;
      }
      // A header, so that replayed lines are not mistaken for new ones.
      const count = `${event.messages.length} message${event.messages.length === 1 ? '' : 's'}`;
      const earlier = event.more ? ', earlier ones not shown' : '';
      out.push(formatNotice(now, `history of ${sanitize(event.room)}: ${count}${earlier}`));
      for (const message of event.messages) out.push(formatMessage(message));
      break;
    }
    case 'unread': {
      const counts = [...event.rooms].map(
        ([room, { count, capped }]) => `${sanitize(room)} ${count}${capped ? '+' : ''}`,
      );
      out.push(formatNotice(now, `unread: ${counts.join(', ')}`));
      break;
    }
    case 'error':
      err.push(formatError(event.code, event.message));
      break;
    case 'notice':
      err.push(`wschat: ${event.text}`);
      break;
    case 'ready':
    case 'online':
    case 'reconnect':
      break;
  }
  return { out, err };
}
