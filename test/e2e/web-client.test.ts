import path from 'path';
import type { Page } from 'playwright-core';
import type { LocalStack } from '../../scripts/local/stack';
import { issueToken } from '../../code/chat/token';
import {
  eventually,
  messageRow,
  messageTexts,
  onlineCount,
  openChat,
  recordStatuses,
  screenshotDir,
  send,
  textOf,
  waitForAck,
  waitForMessage,
  waitForNewConnection,
  waitForOnlineCount,
  waitOnline,
  type ChatPage,
  useChatSuite,
} from './chat-page';

/**
 * The web client in a real browser against the local stack (gateway emulator, SCF handlers, local COS).
 * Each test uses its own room, so tests sharing the stack do not see each other.
 */

const suite = useChatSuite();

function chat(target: LocalStack, options: Parameters<typeof openChat>[2] = {}): Promise<ChatPage> {
  return suite.chat(options, target);
}

/** The text of the newest presence line. */
async function lastEvent(page: Page): Promise<string> {
  return (await page.locator('#messages .event .event-text').last().textContent()) ?? '';
}

async function extraStack(
  env: Record<string, string>,
  options: { idleTimeoutMs?: number; heartbeatSeconds?: number; platform?: 'tencent' | 'aws' } = {},
): Promise<LocalStack> {
  return suite.startStack({ port: 0, env, ...options });
}

test('the page works unchanged against the stack in AWS shape (npm run start:aws)', async () => {
  const aws = await extraStack({}, { platform: 'aws' });
  const alice = await chat(aws, { nick: 'Alice', room: 'aws' });
  await waitOnline(alice.page);
  const bob = await chat(aws, { nick: 'Bob', room: 'aws' });
  await waitOnline(bob.page);
  await send(alice.page, 'Hello through the Lambda handlers');
  await waitForMessage(bob.page, 'Hello through the Lambda handlers');
  expect(await waitForAck(alice.page, 'Hello through the Lambda handlers')).toBe('✓ 1');
  expect(aws.env.PUSH_ENDPOINT).toBeDefined();
});

test('two pages exchange messages both ways, with distinct nicknames', async () => {
  const alice = await chat(suite.stack, { nick: 'Alice', room: 'talk' });
  await waitOnline(alice.page);
  const bob = await chat(suite.stack, { nick: 'Bob', room: 'talk' });
  await waitOnline(bob.page);
  await eventually(async () => expect(await lastEvent(alice.page)).toMatch(/^Bob #[0-9a-f]{4} joined/));

  await send(alice.page, 'Hi Bob, did the deploy go out?');
  await waitForMessage(bob.page, 'Hi Bob, did the deploy go out?');
  expect(await waitForAck(alice.page, 'Hi Bob, did the deploy go out?')).toBe('✓ 1');
  await send(bob.page, 'Yes, it is live in ap-guangzhou.');
  await waitForMessage(alice.page, 'Yes, it is live in ap-guangzhou.');
  await send(alice.page, 'Nice. Any errors in the logs?');
  await send(alice.page, 'The push latency graph looks flat.');
  await waitForMessage(bob.page, 'The push latency graph looks flat.');
  await send(bob.page, 'None so far.\nI will keep an eye on it tonight.');
  await waitForMessage(alice.page, 'None so far.\nI will keep an eye on it tonight.');
  await waitForAck(bob.page, 'None so far.\nI will keep an eye on it tonight.');

  // Sender names and tags on the receiving side; own messages marked as such on the sending side.
  const received = messageRow(bob.page, 'Hi Bob, did the deploy go out?');
  expect(await received.getAttribute('data-from')).toBe('Alice');
  expect(await received.locator('.from').textContent()).toBe('Alice');
  expect(await received.locator('.tag').textContent()).toMatch(/^#[0-9a-f]{4}$/);
  expect(await messageRow(alice.page, 'Hi Bob, did the deploy go out?').getAttribute('class')).toMatch(
    /\bown\b/,
  );
  expect(await received.getAttribute('class')).not.toMatch(/\bown\b/);
  expect(await alice.page.locator('#me-nick').textContent()).toBe('Alice');
  expect(await bob.page.locator('#me-nick').textContent()).toBe('Bob');
  const aliceTag = await alice.page.locator('#me-tag').textContent();
  expect(await received.locator('.tag').textContent()).toBe(aliceTag);
  expect(await messageTexts(alice.page)).toEqual([
    'Hi Bob, did the deploy go out?',
    'Yes, it is live in ap-guangzhou.',
    'Nice. Any errors in the logs?',
    'The push latency graph looks flat.',
    'None so far.\nI will keep an eye on it tonight.',
  ]);
  expect(await messageTexts(bob.page)).toEqual(await messageTexts(alice.page));

  // Screenshots: both pages side by side, and the same room on a phone.
  const carol = await chat(suite.stack, {
    nick: 'Carol',
    room: 'talk',
    context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  });
  await waitOnline(carol.page);
  await send(carol.page, 'Morning all! Reading the backlog now.');
  await waitForMessage(alice.page, 'Morning all! Reading the backlog now.');
  await waitForMessage(bob.page, 'Morning all! Reading the backlog now.');
  await send(bob.page, 'Welcome Carol');
  await waitForMessage(carol.page, 'Welcome Carol');
  await waitForAck(carol.page, 'Morning all! Reading the backlog now.');
  await carol.page.screenshot({ path: path.join(screenshotDir, 'phone.png') });
  const [left, right] = await Promise.all([alice.page.screenshot(), bob.page.screenshot()]);
  const board = await suite.browser.newPage({ viewport: { width: 2224, height: 760 } });
  await board.setContent(
    `<body style="margin:0;display:flex;gap:24px;background:#c9cde0">` +
      `<img src="data:image/png;base64,${left.toString('base64')}">` +
      `<img src="data:image/png;base64,${right.toString('base64')}"></body>`,
  );
  await board.screenshot({ path: path.join(screenshotDir, 'two-pages.png') });
  await board.close();
});

test('messages typed quickly arrive in the order they were written, even when the first is slow', async () => {
  const alice = await chat(suite.stack, { nick: 'Alice', room: 'order' });
  await waitOnline(alice.page);
  const bob = await chat(suite.stack, { nick: 'Bob', room: 'order' });
  await waitOnline(bob.page);
  // The first message's history write takes 400 ms: a second frame sent at once would overtake it, because the
  // gateway runs each frame in its own invocation.
  suite.stack.cos.injectFault({ operation: 'put', delayMs: 400, times: 1 });
  const texts = ['first, slow to store', 'second', 'third'];
  for (const text of texts) await send(alice.page, text);
  await waitForMessage(bob.page, 'third');
  expect(await messageTexts(bob.page)).toEqual(texts);
  await waitForAck(alice.page, 'third');
  expect(await messageTexts(alice.page)).toEqual(texts);
});

test('the online count and presence lines follow people arriving, renaming and leaving', async () => {
  const first = await chat(suite.stack, { nick: 'Dana', room: 'count' });
  await waitOnline(first.page);
  expect(await onlineCount(first.page)).toBe(1);
  const second = await chat(suite.stack, { nick: 'Eli', room: 'count' });
  await waitOnline(second.page);
  expect(await onlineCount(second.page)).toBe(2);
  await waitForOnlineCount(first.page, 2);
  expect(await textOf(first.page, '#online-text')).toBe('2 online');

  // Renaming: checked in the page first, then announced to the room and remembered for the next visit.
  await second.page.locator('#nick-input').fill('Eli <3');
  await second.page.locator('#nick-input').press('Enter');
  expect(await textOf(second.page, '#nick-error')).toMatch(/^Nicknames are 1.24 letters/);
  await second.page.locator('#nick-input').fill('Eli B');
  await second.page.locator('#nick-input').press('Enter');
  await eventually(async () =>
    expect(await lastEvent(first.page)).toMatch(/^Eli is now Eli B #[0-9a-f]{4}$/),
  );
  await eventually(async () => expect(await textOf(second.page, '#me-nick')).toBe('Eli B'));
  expect(await second.page.evaluate(() => localStorage.getItem('wschat.nick'))).toBe('Eli B');
  expect(await second.page.locator('#nick-error').isHidden()).toBe(true);

  await second.page.close();
  await waitForOnlineCount(first.page, 1);
  expect(await textOf(first.page, '#online-text')).toBe('1 online');
  await eventually(async () => expect(await lastEvent(first.page)).toMatch(/^Eli B #[0-9a-f]{4} left/));
});

test('a message that looks like HTML is shown as text, never run', async () => {
  const sender = await chat(suite.stack, { nick: 'Mallory', room: 'xss' });
  await waitOnline(sender.page);
  const reader = await chat(suite.stack, { nick: 'Victor', room: 'xss' });
  await waitOnline(reader.page);
  const payload = '<img src=x onerror=alert(1)>';
  await send(sender.page, payload);
  await waitForMessage(reader.page, payload);
  await waitForAck(sender.page, payload);
  // Give a would-be onerror handler time to fire.
  await reader.page.waitForTimeout(300);
  for (const { page, dialogs } of [sender, reader]) {
    expect(await messageRow(page, payload).locator('.text').textContent()).toBe(payload);
    expect(await page.locator('#messages img').count()).toBe(0);
    expect(
      await page.evaluate(() => document.querySelectorAll('#messages img, #messages script').length),
    ).toBe(0);
    expect(dialogs).toEqual([]);
  }
});

test('a dropped connection comes back by itself and catches up without duplicates', async () => {
  const writer = await chat(suite.stack, { nick: 'Wes', room: 'drops' });
  await waitOnline(writer.page);
  const before = suite.stack.gateway.connectionIds();
  const reader = await chat(suite.stack, { nick: 'Rita', room: 'drops' });
  await waitOnline(reader.page);
  const firstId = await waitForNewConnection(suite.stack, before);
  await send(writer.page, 'before the drop');
  await waitForMessage(reader.page, 'before the drop');

  // 1. The gateway drops the socket (as an idle timeout or a network failure would): the page reconnects.
  const statuses = await recordStatuses(reader.page);
  expect(suite.stack.gateway.drop(firstId)).toBe(true);
  const secondId = await waitForNewConnection(suite.stack, [...before, firstId]);
  expect(secondId).not.toBe(firstId);
  await eventually(async () => expect(await statuses()).toEqual(['online', 'reconnecting', 'online']));
  await send(writer.page, 'after the reconnect');
  await waitForMessage(reader.page, 'after the reconnect');

  // 2. Dropped again while the network is down: what was said meanwhile comes from history on return.
  await reader.context.setOffline(true);
  suite.stack.gateway.drop(secondId);
  await reader.page.locator('#status:not([data-state="online"])').waitFor({ timeout: 5000 });
  await send(writer.page, 'missed one');
  await send(writer.page, 'missed two');
  await waitForAck(writer.page, 'missed two');
  await send(reader.page, 'typed while offline');
  expect(await messageRow(reader.page, 'typed while offline').getAttribute('data-state')).toBe('queued');
  expect(await messageTexts(reader.page)).not.toContain('missed one');
  await reader.context.setOffline(false);
  await waitOnline(reader.page);
  await waitForMessage(reader.page, 'missed two');
  await waitForMessage(writer.page, 'typed while offline');
  await waitForAck(reader.page, 'typed while offline');
  await send(writer.page, 'live again');
  await waitForMessage(reader.page, 'live again');

  const texts = await messageTexts(reader.page);
  expect(texts).toEqual([
    'before the drop',
    'after the reconnect',
    'missed one',
    'missed two',
    'typed while offline',
    'live again',
  ]);
  const ids = await reader.page
    .locator('#messages .msg')
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.id));
  expect(new Set(ids).size).toBe(ids.length);
});

test('an idle page stays connected: its heartbeat beats the gateway idle timeout', async () => {
  // Without a frame for 2.5 s the gateway drops the socket; config.json tells the page to ping every second.
  const idle = await extraStack({}, { idleTimeoutMs: 2500, heartbeatSeconds: 1 });
  const page = await chat(idle, { nick: 'Idle Ida' });
  await waitOnline(page.page);
  const [id] = idle.gateway.connectionIds();
  expect(id).toBeDefined();
  await page.page.waitForTimeout(4000);
  expect(idle.gateway.connectionIds()).toEqual([id]);
  expect(await page.page.locator('#status').getAttribute('data-state')).toBe('online');
});

test('switching rooms shows the new room with its history and hides the old one', async () => {
  const stayer = await chat(suite.stack, { nick: 'Sam', room: 'first' });
  await waitOnline(stayer.page);
  const other = await chat(suite.stack, { nick: 'Olga', room: 'second' });
  await waitOnline(other.page);
  await send(other.page, 'history in second');
  await waitForAck(other.page, 'history in second');
  const mover = await chat(suite.stack, { nick: 'Max', room: 'first' });
  await waitOnline(mover.page);
  await send(stayer.page, 'only in first');
  await waitForMessage(mover.page, 'only in first');
  expect(await textOf(mover.page, '#room-label')).toBe('first');

  await mover.page.locator('#room-input').fill('second');
  await mover.page.locator('#room-input').press('Enter');
  await eventually(async () => expect(await textOf(mover.page, '#room-label')).toBe('second'));
  await waitForMessage(mover.page, 'history in second');
  expect(await messageTexts(mover.page)).toEqual(['history in second']);
  expect(await textOf(mover.page, '#room-list [aria-current="page"]')).toBe('#second');
  await eventually(async () => expect(await lastEvent(stayer.page)).toMatch(/^Max #[0-9a-f]{4} left/));
  await eventually(async () => expect(await lastEvent(other.page)).toMatch(/^Max #[0-9a-f]{4} joined/));

  await send(stayer.page, 'first again');
  // Acked with no deliveries: nobody else is in the first room any more.
  expect(await waitForAck(stayer.page, 'first again')).toBe('✓');
  expect(await messageRow(stayer.page, 'first again').getAttribute('data-delivered')).toBe('0');
  await send(other.page, 'live in second');
  await waitForMessage(mover.page, 'live in second');
  expect(await messageTexts(mover.page)).toEqual(['history in second', 'live in second']);

  // The room is remembered: a reload opens it again.
  await mover.page.reload();
  await waitOnline(mover.page);
  expect(await textOf(mover.page, '#room-label')).toBe('second');
  await waitForMessage(mover.page, 'live in second');
});

test('server errors show in the page', async () => {
  // The page blocks an over-long message itself (config.json serves the limit; page-features.test.ts), so the
  // refusal here is one only the server makes: a right-to-left override, which would make the text read reversed.
  const writer = await chat(suite.stack, { nick: 'Wordy', room: 'refusals' });
  await waitOnline(writer.page);
  const sneaky = 'open invoice\u202Efdp.exe';
  await send(writer.page, sneaky);
  const row = messageRow(writer.page, sneaky);
  await row.locator('[role="alert"]').waitFor();
  expect(await row.getAttribute('data-state')).toBe('failed');
  expect(await row.locator('.receipt').textContent()).toMatch(
    /^Not sent: message contains bidi embedding or override characters/,
  );

  await send(writer.page, 'plain text is fine');
  await waitForAck(writer.page, 'plain text is fine');
});

test('with AUTH_SECRET, a token decides who connects; without one the page does not connect', async () => {
  const secured = await extraStack({ AUTH_SECRET: 'secret' });
  const token = issueToken('secret', { nick: 'Token Tina', room: 'vip', ttlSeconds: 600 });
  const member = await chat(secured, { query: `token=${encodeURIComponent(token)}` });
  await waitOnline(member.page);
  expect(await textOf(member.page, '#me-nick')).toBe('Token Tina');
  expect(await textOf(member.page, '#room-label')).toBe('vip');
  expect(await member.page.locator('#nick-input').isDisabled()).toBe(true);
  expect(secured.gateway.connectionIds()).toHaveLength(1);
  await send(member.page, 'members only');
  expect(await waitForAck(member.page, 'members only')).toBe('✓');

  const stranger = await chat(secured);
  await stranger.page.locator('#status[data-state="offline"]').waitFor();
  expect(await textOf(stranger.page, '#status')).toContain('Invitation required');
  expect(await textOf(stranger.page, '#banner')).toContain('invite-only');

  // A forged token is refused: the page finds out why and stops (test/e2e/page-features.test.ts has the details).
  const forger = await chat(secured, { query: 'token=e30.AAAA' });
  await forger.page.locator('#status[data-state="offline"]').waitFor({ timeout: 20_000 });
  expect(await messageTexts(forger.page)).toEqual([]);
  expect(secured.gateway.connectionIds()).toHaveLength(1);
  // A second stack starts and three pages open here: more than the default 30 s on a busy 2-core machine.
}, 60_000);
