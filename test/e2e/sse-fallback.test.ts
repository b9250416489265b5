import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import {
  assertPrerequisites,
  launchBrowser,
  openChat,
  send,
  textOf,
  waitForAck,
  waitForMessage,
  waitOnline,
  webDir,
  type ChatPage,
} from './chat-page';

/**
 * The page where WebSockets cannot be opened: it falls back to server-sent events and POSTs by itself, says so
 * in its status, and chats with a page that has a WebSocket.
 */

let browser: Browser;
let stack: LocalStack;
const opened: ChatPage[] = [];

beforeAll(async () => {
  assertPrerequisites();
  [browser, stack] = await Promise.all([launchBrowser(), startLocalStack({ port: 0, webDir })]);
});

afterEach(async () => {
  const problems = opened.flatMap((p) => [...p.problems, ...p.dialogs]);
  await Promise.all(opened.splice(0).map((p) => p.context.close().catch(() => undefined)));
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Opens the chat with every WebSocket refused before it opens, as a proxy that strips upgrades would. */
async function blockedChat(how: 'route' | 'missing', nick: string, room: string): Promise<ChatPage> {
  const chat = await openChat(browser, stack, {
    nick,
    room,
    prepare: async (context) => {
      if (how === 'route') await context.routeWebSocket(/.*/, (ws) => ws.close({ code: 1006 }));
      else
        await context.addInitScript(() => Object.defineProperty(window, 'WebSocket', { value: undefined }));
    },
  });
  opened.push(chat);
  return chat;
}

it.each(['route', 'missing'] as const)(
  'falls back to SSE + POST when WebSockets are blocked (%s) and chats both ways with a WebSocket page',
  async (how) => {
    const room = `fallback-${how}`;
    const fallback = await blockedChat(how, 'Hana', room);
    await waitOnline(fallback.page);
    expect(await textOf(fallback.page, '#status-text')).toContain('HTTP fallback');

    const socket = await openChat(browser, stack, { nick: 'Ivo', room });
    opened.push(socket);
    await waitOnline(socket.page);
    expect(await textOf(socket.page, '#status-text')).not.toContain('fallback');

    await send(fallback.page, 'sent over POST');
    await waitForAck(fallback.page, 'sent over POST');
    await waitForMessage(socket.page, 'sent over POST');

    await send(socket.page, 'read over SSE');
    await waitForMessage(fallback.page, 'read over SSE');
  },
);
