/** What one line typed into the terminal client means. */
export type InputLine =
  | { kind: 'empty' }
  | { kind: 'message'; text: string }
  | { kind: 'nick'; nick: string }
  | { kind: 'join'; room: string }
  | { kind: 'history'; limit?: number }
  | { kind: 'older' }
  | { kind: 'unread' }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'invalid'; reason: string };

export const COMMAND_HELP = [
  'commands:',
  '  /nick NAME    change your nickname',
  '  /join ROOM    move to another room',
  '  /history [N]  show the last N messages of the room (at most 50)',
  '  /older        show the 50 messages before the oldest shown',
  '  /unread       how many new messages each room you left with /join has',
  '  /who [more]   list who is in the room (a page at a time; "more" for the next page)',
  '  /typing       tell the room you are typing',
  '  /quit         leave (like end of input)',
  '  /help         this list',
  '  //text        send "/text" as a message',
];

export function parseInputLine(line: string): InputLine {
  // A pasted Windows line ending would otherwise end up in the message.
  const text = line.replace(/\r$/, '');
  if (text.trim() === '') return { kind: 'empty' };
  if (!text.startsWith('/')) return { kind: 'message', text };
  if (text.startsWith('//')) return { kind: 'message', text: text.slice(1) };
  const match = /^\/(\S+)\s*(.*)$/.exec(text.trimEnd());
  const command = match?.[1]?.toLowerCase() ?? '';
  const rest = match?.[2]?.trim() ?? '';
  switch (command) {
    case 'nick':
      return rest ? { kind: 'nick', nick: rest } : { kind: 'invalid', reason: 'usage: /nick NAME' };
    case 'join':
      return rest && !/\s/.test(rest)
        ? { kind: 'join', room: rest }
        : { kind: 'invalid', reason: 'usage: /join ROOM' };
    case 'history': {
      if (!rest) return { kind: 'history' };
      const limit = Number(rest);
      return Number.isInteger(limit) && limit >= 1
        ? { kind: 'history', limit }
        : { kind: 'invalid', reason: 'usage: /history [N], N a positive whole number' };
    }
    case 'older':
      return rest ? { kind: 'invalid', reason: 'usage: /older' } : { kind: 'older' };
    case 'unread':
      return rest ? { kind: 'invalid', reason: 'usage: /unread' } : { kind: 'unread' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', reason: `unknown command /${command}; /help lists them, // sends a "/"` };
  }
}
