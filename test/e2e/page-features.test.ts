import type { Page } from 'playwright-core';
import type { LocalStack } from '../../scripts/local/stack';
import {
  messageRow,
  messageTexts,
  openChat,
  pickName,
  screenshotDir,
  send,
  waitForAck,
  waitForMessage,
  waitForNewConnection,
  waitForOnlineCount,
  waitOnline,
  type ChatPage,
  useChatSuite,
} from './chat-page';

/** Page features of issue 16, in Chromium against the local stack. */

const suite = useChatSuite();

function chat(target: LocalStack, options: Parameters<typeof openChat>[2] = {}): Promise<ChatPage> {
  return suite.chat(options, target);
}

function watchErrors(page: Page, into: ChatPage): void {
  page.on('pageerror', (error) => into.problems.push(`pageerror: ${error.message}`));
}

test('the header does not keep the online count while the page is disconnected', async () => {
  const other = await chat(suite.stack, { nick: 'Otto', room: 'count' });
  await waitOnline(other.page);
  const before = suite.stack.gateway.connectionIds();
  const reader = await chat(suite.stack, { nick: 'Rhea', room: 'count' });
  await waitOnline(reader.page);
  const readerId = await waitForNewConnection(suite.stack, before);
  await waitForOnlineCount(reader.page, 2);
  expect(await reader.page.locator('#online-text').textContent()).toBe('2 online');

  await reader.context.setOffline(true);
  expect(suite.stack.gateway.drop(readerId)).toBe(true);
  await reader.page.locator('#status:not([data-state="online"])').waitFor({ timeout: 5000 });
  await waitForOnlineCount(reader.page, 0);
  expect(await reader.page.locator('#online-text').textContent()).toBe('–');

  await reader.context.setOffline(false);
  await waitOnline(reader.page, 20_000);
  await waitForOnlineCount(reader.page, 2);
});

test('an invitation the server refuses stops the page with the reason, instead of retrying for ever', async () => {
  const secured = await suite.startStack({ port: 0, env: { AUTH_SECRET: 'secret' } });
  const forger = await chat(secured, { query: 'token=e30.AAAA' });
  await forger.page.locator('#status[data-state="offline"]').waitFor({ timeout: 20_000 });
  expect(await forger.page.locator('#status').textContent()).toContain('Invitation not accepted');
  const banner = (await forger.page.locator('#banner-text').textContent()) ?? '';
  expect(banner).toContain('did not accept your invitation');
  expect(banner).toContain('unauthorized');
  // Stopped: no "retry" offered, and nothing can be typed.
  expect(await forger.page.locator('#banner-action').isHidden()).toBe(true);
  expect(await forger.page.locator('#message-input').isDisabled()).toBe(true);
  expect(secured.gateway.connectionIds()).toEqual([]);
});

test('a message over the limit is blocked before sending, and stays in the box', async () => {
  const writer = await chat(suite.stack, { nick: 'Lena', room: 'limits' });
  await waitOnline(writer.page);
  const input = writer.page.locator('#message-input');
  // 4,097 bytes: one over the server's default limit, which config.json leaves in place.
  await input.fill(`${'a'.repeat(4095)}é`);
  await writer.page.locator('#composer-limit').waitFor();
  expect(await writer.page.locator('#composer-limit').textContent()).toContain(
    '4,097 bytes; the limit is 4,096',
  );
  expect(await writer.page.locator('#send').isDisabled()).toBe(true);
  await input.press('Enter');
  expect(await writer.page.locator('#messages .msg').count()).toBe(0);
  expect(await input.inputValue()).toHaveLength(4096);
  await input.press('Backspace');
  expect(await writer.page.locator('#composer-limit').isHidden()).toBe(true);
  await input.press('Enter');
  expect(await waitForAck(writer.page, 'a'.repeat(4095))).toBe('✓');
});

test('web addresses in messages are links; nothing in a message is ever HTML', async () => {
  const writer = await chat(suite.stack, { nick: 'Wim', room: 'links' });
  await waitOnline(writer.page);
  const reader = await chat(suite.stack, { nick: 'Ria', room: 'links' });
  await waitOnline(reader.page);
  const text =
    'docs: https://example.com/a?b=1&c=2. (see https://example.org/x_(y)) javascript:alert(1) <b>bold</b>';
  await send(writer.page, text);
  await waitForMessage(reader.page, text);
  const row = messageRow(reader.page, 'docs:');
  const links = await row.locator('a').evaluateAll((anchors) =>
    anchors.map((a) => ({
      href: (a as HTMLAnchorElement).href,
      text: a.textContent,
      rel: (a as HTMLAnchorElement).rel,
      target: (a as HTMLAnchorElement).target,
    })),
  );
  expect(links).toEqual([
    {
      href: 'https://example.com/a?b=1&c=2',
      text: 'https://example.com/a?b=1&c=2',
      rel: 'noopener noreferrer nofollow',
      target: '_blank',
    },
    {
      href: 'https://example.org/x_(y)',
      text: 'https://example.org/x_(y)',
      rel: 'noopener noreferrer nofollow',
      target: '_blank',
    },
  ]);
  expect(await row.locator('b').count()).toBe(0);
  expect(await messageTexts(reader.page)).toEqual([text]);
});

test('two tabs of one browser are two people: each sees the other’s messages on the other side', async () => {
  const first = await chat(suite.stack, { nick: 'Tab', room: 'tabs' });
  await waitOnline(first.page);
  // A second tab in the same browser context: same localStorage (so the same remembered name), its own identity.
  const secondPage = await first.context.newPage();
  const second: ChatPage = { page: secondPage, context: first.context, problems: [], dialogs: [] };
  watchErrors(secondPage, second);
  await secondPage.goto(`${suite.stack.url}?room=tabs`);
  await waitOnline(secondPage);

  await send(first.page, 'from the first tab');
  await waitForMessage(secondPage, 'from the first tab');
  await send(secondPage, 'from the second tab');
  await waitForMessage(first.page, 'from the second tab');

  const side = (page: Page, text: string) =>
    messageRow(page, text).evaluate((row) => row.classList.contains('own'));
  expect(await side(first.page, 'from the first tab')).toBe(true);
  expect(await side(first.page, 'from the second tab')).toBe(false);
  expect(await side(secondPage, 'from the second tab')).toBe(true);
  expect(await side(secondPage, 'from the first tab')).toBe(false);

  // Two people, two tags (each tab has its own identity key), though they picked the same name.
  const tagOf = async (page: Page) => (await page.locator('#me-tag').textContent())?.replace(/^#/, '') ?? '';
  const firstTag = await tagOf(first.page);
  const secondTag = await tagOf(secondPage);
  expect(firstTag).toMatch(/^[0-9a-f]{4}$/);
  expect(secondTag).toMatch(/^[0-9a-f]{4}$/);

  // A reload keeps the tab's identity: its earlier message is still its own, and its tag is the same.
  await secondPage.reload();
  await waitOnline(secondPage);
  await waitForMessage(secondPage, 'from the second tab');
  expect(await side(secondPage, 'from the second tab')).toBe(true);
  expect(await side(secondPage, 'from the first tab')).toBe(false);
  expect(await tagOf(secondPage)).toBe(secondTag);
  expect(secondTag).not.toBe(firstTag);
  expect(second.problems).toEqual([]);
});

test('"N online" opens the member list: every name with its tag', async () => {
  const first = await chat(suite.stack, { nick: 'Mira', room: 'members' });
  await waitOnline(first.page);
  const second = await chat(suite.stack, { nick: 'Noor', room: 'members' });
  await waitOnline(second.page);
  await waitForOnlineCount(first.page, 2);
  const tagOf = async (page: Page) => ((await page.locator('#me-tag').textContent()) ?? '').trim();
  const [firstTag, secondTag] = [await tagOf(first.page), await tagOf(second.page)];
  expect(firstTag).toMatch(/^#\S+$/);
  expect(secondTag).toMatch(/^#\S+$/);

  await first.page.locator('#online').click();
  const panel = first.page.locator('#members');
  await panel.waitFor();
  await first.page.locator('#member-list li').nth(1).waitFor({ timeout: 10_000 });
  const rows = await first.page
    .locator('#member-list li')
    .evaluateAll((items) =>
      items.map((li) => `${li.querySelector('.nick')?.textContent} ${li.querySelector('.tag')?.textContent}`),
    );
  expect(rows.sort()).toEqual([`Noor ${secondTag}`, `Mira ${firstTag}`].sort());
  expect(await first.page.locator('#online').getAttribute('aria-expanded')).toBe('true');
  // Two people fit one page: no "More".
  expect(await first.page.locator('#members-more').isHidden()).toBe(true);

  await first.page.setViewportSize({ width: 1280, height: 800 });
  await first.page.screenshot({ path: `${screenshotDir}/page-members-desktop.png` });
  await first.page.keyboard.press('Escape');
  expect(await panel.isHidden()).toBe(true);
});

test('a first-time visitor watches the room live before picking a name, then chats without losing it', async () => {
  const poster = await chat(suite.stack, { nick: 'Pia', room: 'watch' });
  await waitOnline(poster.page);
  await send(poster.page, 'said before the visitor came');
  await waitForAck(poster.page, 'said before the visitor came');

  // No remembered name: the page connects at once as a guest and shows the room.
  const visitor = await chat(suite.stack, {
    query: 'room=watch',
    context: { viewport: { width: 390, height: 844 } },
  });
  await waitOnline(visitor.page);
  await waitForMessage(visitor.page, 'said before the visitor came');
  await send(poster.page, 'said while the visitor watched');
  await waitForMessage(visitor.page, 'said while the visitor watched');
  expect(await visitor.page.locator('#welcome').isVisible()).toBe(false);
  expect(await visitor.page.locator('#pick-name').isVisible()).toBe(true);
  expect(await visitor.page.locator('#message-input').isVisible()).toBe(false);
  expect(await visitor.page.locator('#message-input').isDisabled()).toBe(true);
  // The guest name the server gave is not remembered as the visitor's own.
  expect(await visitor.page.evaluate(() => localStorage.getItem('wschat.nick'))).toBeNull();
  await visitor.page.screenshot({ path: `${screenshotDir}/page-watching-phone.png` });

  await pickName(visitor.page, 'Vera');
  await send(visitor.page, 'hello from Vera');
  expect(await waitForAck(visitor.page, 'hello from Vera')).toMatch(/^✓/);
  await waitForMessage(poster.page, 'hello from Vera');
  expect(await messageRow(poster.page, 'hello from Vera').getAttribute('data-from')).toBe('Vera');
  // What was shown while watching is still there, in order, before the visitor's own message.
  expect(await messageTexts(visitor.page)).toEqual([
    'said before the visitor came',
    'said while the visitor watched',
    'hello from Vera',
  ]);
  expect(await visitor.page.locator('#watch-bar').isHidden()).toBe(true);
  expect(await visitor.page.evaluate(() => localStorage.getItem('wschat.nick'))).toBe('Vera');
  await visitor.page.screenshot({ path: `${screenshotDir}/page-named-phone.png` });
});
