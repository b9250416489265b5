import { mkdirSync } from 'fs';
import type { Browser, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { connectClient, type TestClient } from '../helpers/ws-client';
import {
  assertPrerequisites,
  launchBrowser,
  messageTexts,
  openChat,
  screenshotDir,
  waitForMessage,
  waitForNewConnection,
  waitOnline,
  webDir,
  type ChatPage,
} from './chat-page';

/**
 * Gap-free catch-up in a real browser: a page away for more than one history page gets every message it
 * missed, in order, once; one away for longer than history keeps is told so; older history pages backwards.
 */

let browser: Browser;
const stacks: LocalStack[] = [];
const opened: ChatPage[] = [];
const writers: TestClient[] = [];

async function stackWith(env: Record<string, string>): Promise<LocalStack> {
  // Many messages from one writer in a moment: lift the per-connection rate limit.
  const stack = await startLocalStack({
    port: 0,
    webDir,
    env: { RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000', ...env },
  });
  stacks.push(stack);
  return stack;
}

async function chat(stack: LocalStack, nick: string, room: string): Promise<ChatPage> {
  const page = await openChat(browser, stack, { nick, room });
  opened.push(page);
  return page;
}

/** A plain WebSocket writer in `room` that sends `texts` one after another, each acknowledged. */
async function write(stack: LocalStack, room: string, texts: string[]): Promise<void> {
  const writer = await connectClient(stack.wsUrl, connectProtocols({ room, nick: 'writer' }));
  writers.push(writer);
  for (const [index, text] of texts.entries()) {
    writer.send({ type: 'message', text, ref: `w${index}` });
    await writer.next((frame) => frame.ref === `w${index}` && frame.type === 'ack', 10_000);
  }
}

const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix} ${String(index + 1).padStart(3, '0')}`);

async function rowIds(page: Page): Promise<string[]> {
  return page
    .locator('#messages .msg')
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.id ?? ''));
}

/** Takes the page offline and drops its socket; returns a function that brings it back. */
async function away(stack: LocalStack, reader: ChatPage, readerId: string): Promise<() => Promise<void>> {
  await reader.context.setOffline(true);
  expect(stack.gateway.drop(readerId)).toBe(true);
  await reader.page.locator('#status:not([data-state="online"])').waitFor({ timeout: 5000 });
  return async () => {
    await reader.context.setOffline(false);
    await waitOnline(reader.page, 20_000);
  };
}

beforeAll(async () => {
  assertPrerequisites();
  mkdirSync(screenshotDir, { recursive: true });
  browser = await launchBrowser();
});

afterEach(async () => {
  const problems = opened.flatMap((p) => [...p.problems, ...p.dialogs]);
  await Promise.all(opened.splice(0).map((p) => p.context.close().catch(() => undefined)));
  await Promise.all(writers.splice(0).map((w) => w.close()));
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(stacks.map((s) => s.close()));
});

test('a page away for 120 messages (more than one page of 50) gets all of them, in order, once', async () => {
  const stack = await stackWith({ HISTORY_LIMIT: '500' });
  const before = stack.gateway.connectionIds();
  const reader = await chat(stack, 'Rita', 'catchup');
  await waitOnline(reader.page);
  const readerId = await waitForNewConnection(stack, before);
  await write(stack, 'catchup', ['before']);
  await waitForMessage(reader.page, 'before');

  const back = await away(stack, reader, readerId);
  const missed = numbered('missed', 120);
  await write(stack, 'catchup', missed);
  await back();
  await waitForMessage(reader.page, missed[missed.length - 1]!, 20_000);
  await write(stack, 'catchup', ['after']);
  await waitForMessage(reader.page, 'after');

  expect(await messageTexts(reader.page)).toEqual(['before', ...missed, 'after']);
  const ids = await rowIds(reader.page);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
  expect(
    await reader.page.locator('#messages .notice', { hasText: 'older than history keeps' }).count(),
  ).toBe(0);
  await reader.page.screenshot({ path: `${screenshotDir}/catch-up-120.png` });
});

test('a page away for longer than history keeps is told so plainly, and shows what history has', async () => {
  const stack = await stackWith({ HISTORY_LIMIT: '20' });
  const before = stack.gateway.connectionIds();
  const reader = await chat(stack, 'Gus', 'gaps');
  await waitOnline(reader.page);
  const readerId = await waitForNewConnection(stack, before);
  await write(stack, 'gaps', ['seen']);
  await waitForMessage(reader.page, 'seen');

  const back = await away(stack, reader, readerId);
  const missed = numbered('gone or kept', 40);
  await write(stack, 'gaps', missed);
  await back();
  await waitForMessage(reader.page, missed[39]!, 20_000);

  await reader.page
    .locator('#messages .notice', { hasText: 'Some messages you missed are older than history keeps' })
    .waitFor({ timeout: 5000 });
  // History keeps the newest 20: those are shown, after what was seen before.
  expect(await messageTexts(reader.page)).toEqual(['seen', ...missed.slice(20)]);
});

test('"load older" pages history backwards until the start of the room', async () => {
  const stack = await stackWith({ HISTORY_LIMIT: '500' });
  const all = numbered('old', 120);
  await write(stack, 'archive', all);
  const reader = await chat(stack, 'Olga', 'archive');
  await waitOnline(reader.page);
  await waitForMessage(reader.page, all[119]!);
  // The first page is the newest 50, with a way to ask for more.
  expect(await messageTexts(reader.page)).toEqual(all.slice(70));
  const loadOlder = reader.page.locator('#messages .load-older');
  await loadOlder.click();
  await waitForMessage(reader.page, all[20]!);
  expect(await messageTexts(reader.page)).toEqual(all.slice(20));
  await reader.page.locator('#messages .load-older').click();
  await waitForMessage(reader.page, all[0]!);
  expect(await messageTexts(reader.page)).toEqual(all);
  await reader.page.locator('#messages .intro', { hasText: 'This is the start of #archive.' }).waitFor();
  expect(await reader.page.locator('#messages .load-older').count()).toBe(0);
  const ids = await rowIds(reader.page);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
