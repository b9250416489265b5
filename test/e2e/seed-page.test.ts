import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectProtocols } from '../../code/chat/protocol';
import { connectClient, ofType, type TestClient } from '../helpers/ws-client';
import { assertPrerequisites, launchBrowser } from './chat-page';

/**
 * The seed article's own HTML client (test/e2e/fixtures/seed-002-client.html, its script unchanged) against the
 * stack `npm start` runs: it offers no sub-protocol, so it must show readable chat, not JSON envelopes.
 */

const SEED_URL = 'ws://service-01era6ni-1256773370.gz.apigw.tencentcs.com/release/';
const seedHtml = readFileSync(path.join(__dirname, 'fixtures', 'seed-002-client.html'), 'utf8');

let browser: Browser;
let stack: LocalStack;
let context: BrowserContext | undefined;
const clients: TestClient[] = [];
const problems: string[] = [];

/**
 * The seed page, served by the stack's gateway as it serves our own page (Chromium refuses a socket to 127.0.0.1
 * from a page it cannot place on the local network), pointed at our socket.
 */
async function openSeedPage(): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(new URL('/seed-article.html', stack.url).toString());
  return page;
}

const logText = (page: Page) => page.locator('#log').innerText();

let pageDir: string;

beforeAll(async () => {
  assertPrerequisites();
  expect(seedHtml.split(SEED_URL)).toHaveLength(2);
  pageDir = mkdtempSync(path.join(tmpdir(), 'seed-page-'));
  [browser, stack] = await Promise.all([launchBrowser(), startLocalStack({ port: 0, webDir: pageDir })]);
  writeFileSync(path.join(pageDir, 'seed-article.html'), seedHtml.replace(SEED_URL, stack.wsUrl));
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  await Promise.all(clients.splice(0).map((c) => c.close()));
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  rmSync(pageDir, { recursive: true, force: true });
});

it('shows the room’s recent messages and new ones as "nick: text", and sends what is typed', async () => {
  // Texts without the letter n: the seed splits every frame at 'n' (it meant '\n').
  const alice = await connectClient(stack.wsUrl, connectProtocols({ nick: 'alice' }));
  clients.push(alice);
  alice.send({ type: 'message', text: 'said earlier', ref: 'e' });
  await alice.next(ofType('ack', { ref: 'e' }));

  const page = await openSeedPage();
  await page.waitForFunction(() => document.getElementById('log')!.innerText.includes('alice: said earlier'));

  alice.send({ type: 'message', text: 'hi', ref: 'h' });
  await alice.next(ofType('ack', { ref: 'h' }));
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#log div')].some((div) => (div as HTMLElement).innerText === 'alice: hi'),
  );

  await page.fill('#msg', 'hello from the seed page');
  await page.click('input[type=submit]');
  const heard = await alice.next(ofType('message', { text: 'hello from the seed page' }));
  expect(heard.from).toMatch(/^guest-[0-9a-f]{4}$/);

  // Nothing of the protocol reached the page: no envelopes, no acknowledgements of its own message.
  const log = await logText(page);
  expect(log).not.toMatch(/[{}]|"v"|"type"/);
  expect(log).not.toMatch(/ack|delivered/);
});
