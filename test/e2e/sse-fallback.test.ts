import {
  recordStatuses,
  send,
  textOf,
  waitForAck,
  waitForMessage,
  waitForNewConnection,
  waitOnline,
  type ChatPage,
  useChatSuite,
} from './chat-page';

/**
 * The page where WebSockets cannot be opened: it falls back to server-sent events and POSTs by itself, says so
 * in its status, and chats with a page that has a WebSocket.
 */

const suite = useChatSuite();

/** Opens the chat with every WebSocket refused before it opens, as a proxy that strips upgrades would. */
async function blockedChat(how: 'route' | 'missing', nick: string, room: string): Promise<ChatPage> {
  return suite.chat({
    nick,
    room,
    prepare: async (context) => {
      if (how === 'route') await context.routeWebSocket(/.*/, (ws) => ws.close({ code: 1006 }));
      else
        await context.addInitScript(() => Object.defineProperty(window, 'WebSocket', { value: undefined }));
    },
  });
}

it.each(['route', 'missing'] as const)(
  'falls back to SSE + POST when WebSockets are blocked (%s) and chats both ways with a WebSocket page',
  async (how) => {
    const room = `fallback-${how}`;
    const fallback = await blockedChat(how, 'Hana', room);
    await waitOnline(fallback.page);
    expect(await textOf(fallback.page, '#status-text')).toContain('HTTP fallback');

    const socket = await suite.chat({ nick: 'Ivo', room });
    await waitOnline(socket.page);
    expect(await textOf(socket.page, '#status-text')).not.toContain('fallback');

    await send(fallback.page, 'sent over POST');
    await waitForAck(fallback.page, 'sent over POST');
    await waitForMessage(socket.page, 'sent over POST');

    await send(socket.page, 'read over SSE');
    await waitForMessage(fallback.page, 'read over SSE');
  },
);

it('reconnects over the fallback when the gateway drops its stream, and catches up', async () => {
  const room = 'fallback-drop';
  const socket = await suite.chat({ nick: 'Jo', room });
  await waitOnline(socket.page);
  const before = suite.stack.gateway.connectionIds();
  const fallback = await blockedChat('missing', 'Kai', room);
  await waitOnline(fallback.page);
  const first = await waitForNewConnection(suite.stack, before);
  expect(suite.stack.gateway.hub.kindOf(first)).toBe('sse');

  const statuses = await recordStatuses(fallback.page);
  const afterDrop = suite.stack.gateway.connectionIds().filter((id) => id !== first);
  suite.stack.gateway.drop(first);
  // Said while it was away: the catch-up after the reconnect brings it.
  await send(socket.page, 'said during the drop');
  const second = await waitForNewConnection(suite.stack, afterDrop, 15_000);
  expect(suite.stack.gateway.hub.kindOf(second)).toBe('sse');
  await waitForMessage(fallback.page, 'said during the drop');
  await waitOnline(fallback.page);
  expect(await statuses()).toContain('reconnecting');
  expect(await textOf(fallback.page, '#status-text')).toContain('HTTP fallback');

  await send(fallback.page, 'still talking over POST');
  await waitForMessage(socket.page, 'still talking over POST');
});
