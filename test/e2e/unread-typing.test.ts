import type { Page } from 'playwright-core';
import {
  messageTexts,
  screenshotDir,
  send,
  useChatSuite,
  waitForAck,
  waitForMessage,
  waitForOnlineCount,
  waitOnline,
} from './chat-page';

/**
 * Unread badges for recent rooms and typing notices, in Chromium against the local stack (gateway, SCF handlers,
 * local COS). Each test uses rooms of its own.
 */

const suite = useChatSuite();
const chat = (options: Parameters<typeof suite.chat>[0]) => suite.chat(options);

const badge = (page: Page, room: string) => page.locator(`#room-list [data-room="${room}"] .unread-badge`);

/** Moves to `room` through the sidebar's form, as a person would, and waits until the page is there. */
async function switchTo(page: Page, room: string): Promise<void> {
  await page.locator('#room-input').fill(room);
  await page.locator('#room-input').press('Enter');
  await page.locator('#room-label', { hasText: new RegExp(`^${room}$`) }).waitFor();
}

/**
 * The window comes back into focus (the user returns to the tab): the page asks for fresh counts. Headless
 * Chromium gives no real focus change, so the page gets the event the browser would fire.
 */
async function returnToTab(page: Page): Promise<void> {
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
}

/** Puts a key in the composer, as typing does (the page tells the room at most once per typing interval). */
async function typeSome(page: Page, text = 'a'): Promise<void> {
  await page.locator('#message-input').pressSequentially(text);
}

test('another room that got messages while you were away shows an unread badge; going there clears it', async () => {
  const poster = await chat({ nick: 'Pat', room: 'alpha' });
  await waitOnline(poster.page);
  const reader = await chat({ nick: 'Una', room: 'alpha' });
  await waitOnline(reader.page);
  await send(poster.page, 'before you left');
  await waitForMessage(reader.page, 'before you left');

  await switchTo(reader.page, 'beta');
  expect(await reader.page.locator('#room-list [data-room="alpha"]').isVisible()).toBe(true);
  await send(poster.page, 'one');
  await waitForAck(poster.page, 'one');
  await send(poster.page, 'two');
  await waitForAck(poster.page, 'two');
  await returnToTab(reader.page);
  await badge(reader.page, 'alpha').filter({ hasText: /^2$/ }).waitFor({ timeout: 15_000 });
  expect(await reader.page.locator('#room-list [data-room="alpha"]').getAttribute('aria-label')).toBe(
    '#alpha, 2 unread',
  );
  // No badge on the room you are in.
  expect(await badge(reader.page, 'beta').count()).toBe(0);

  await reader.page.locator('#room-list [data-room="alpha"]').click();
  await reader.page.locator('#room-label', { hasText: /^alpha$/ }).waitFor();
  await waitForMessage(reader.page, 'two');
  expect(await badge(reader.page, 'alpha').count()).toBe(0);
  expect(await messageTexts(reader.page)).toEqual(['before you left', 'one', 'two']);

  // Remembered across a reload: what came after the last message seen is counted on connect.
  await switchTo(reader.page, 'beta');
  await send(poster.page, 'three');
  await waitForAck(poster.page, 'three');
  await reader.page.reload();
  await waitOnline(reader.page);
  await badge(reader.page, 'alpha').filter({ hasText: /^1$/ }).waitFor({ timeout: 15_000 });
  const remembered = await reader.page.evaluate(() =>
    JSON.parse(localStorage.getItem('wschat.seen') ?? '{}'),
  );
  expect(Object.keys(remembered as object).sort()).toEqual(['alpha', 'beta']);
});

test('someone typing is shown to the others in the room, and the notice goes when they send or stop', async () => {
  const writer = await chat({ nick: 'Tia', room: 'typing' });
  await waitOnline(writer.page);
  const watcher = await chat({ nick: 'Wyn', room: 'typing' });
  await waitOnline(watcher.page);
  await waitForOnlineCount(writer.page, 2);
  const notice = (page: Page) => page.locator('#typing');

  await typeSome(writer.page, 'hello the');
  await notice(watcher.page)
    .filter({ hasText: /^Tia is typing…$/ })
    .waitFor();
  // Nobody is told about their own typing.
  expect(await notice(writer.page).textContent()).toBe('');
  await typeSome(writer.page, 're');
  await writer.page.locator('#message-input').press('Enter');
  await waitForMessage(watcher.page, 'hello there');
  expect(await notice(watcher.page).getAttribute('data-active')).toBe('false');
  expect(await notice(watcher.page).textContent()).toBe('');

  // Typing and then stopping without sending: the notice expires by itself (two intervals and a second).
  await typeSome(watcher.page, 'hm');
  await notice(writer.page)
    .filter({ hasText: /^Wyn is typing…$/ })
    .waitFor();
  await writer.page.locator('#typing[data-active="false"]').waitFor({ timeout: 12_000 });
  expect(await notice(writer.page).textContent()).toBe('');
});

test('screenshots: the member panel, recent rooms with an unread badge and a typing notice, desktop and phone', async () => {
  // As long as a room name may be: the badge must still fit beside it.
  const room = 'design-reviews-and-mockups-2026';
  const poster = await chat({ nick: 'Pat', room: room });
  await waitOnline(poster.page);
  const reader = await chat({
    nick: 'Una',
    room: room,
    context: { viewport: { width: 1280, height: 800 } },
  });
  await waitOnline(reader.page);
  await send(poster.page, 'the mock-ups are in the drive');
  await waitForMessage(reader.page, 'the mock-ups are in the drive');
  await switchTo(reader.page, 'frontend');
  const typist = await chat({ nick: 'Kai', room: 'frontend' });
  await waitOnline(typist.page);
  await send(typist.page, 'who is on the release today?');
  await waitForMessage(reader.page, 'who is on the release today?');
  for (const text of ['first round of feedback', 'colours are final', 'ship it']) {
    await send(poster.page, text);
    await waitForAck(poster.page, text);
  }
  await returnToTab(reader.page);
  await badge(reader.page, room).filter({ hasText: /^3$/ }).waitFor({ timeout: 15_000 });
  await reader.page.locator('#online').click();
  await reader.page.locator('#member-list li').nth(1).waitFor({ timeout: 10_000 });

  /** The notice lasts a few seconds after each keystroke's notice: type until it shows, then take the picture. */
  const withTypingShown = async (path: string) => {
    const shown = reader.page.locator('#typing', { hasText: 'Kai is typing…' });
    for (let attempt = 0; !(await shown.isVisible()); attempt += 1) {
      if (attempt === 5) throw new Error('the typing notice never showed');
      await typeSome(typist.page);
      await shown.waitFor({ timeout: 4000 }).catch(() => undefined);
    }
    await reader.page.screenshot({ path });
  };
  await withTypingShown(`${screenshotDir}/unread-typing-members-desktop.png`);

  await reader.page.setViewportSize({ width: 390, height: 844 });
  await reader.page.locator('#menu-unread').waitFor();
  await withTypingShown(`${screenshotDir}/unread-typing-members-phone.png`);
  await reader.page.locator('#menu-button').click();
  await badge(reader.page, room).waitFor();
  // The drawer slides in: the picture waits until it is all in view.
  await reader.page.waitForFunction(
    () => document.getElementById('sidebar')?.getBoundingClientRect().left === 0,
  );
  await reader.page.screenshot({ path: `${screenshotDir}/unread-rooms-phone.png` });
  const link = await reader.page.locator(`#room-list [data-room="${room}"]`).boundingBox();
  const count = await badge(reader.page, room).boundingBox();
  expect(count!.x + count!.width).toBeLessThanOrEqual(link!.x + link!.width);
  expect(count!.width).toBeGreaterThan(0);
});
