import path from 'path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { existsSync, mkdirSync } from 'fs';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../scripts/local/stack';

/** Drives the built web client (dist/web) in Debian's Chromium; never a downloaded browser. */

export const repoRoot = path.resolve(__dirname, '../..');
export const webDir = path.join(repoRoot, 'dist', 'web');
export const screenshotDir = path.join(repoRoot, 'artifacts', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';

export function assertPrerequisites(): void {
  if (!existsSync(path.join(webDir, 'app.js'))) {
    throw new Error('dist/web/app.js is missing: run `npm run build` (or `node scripts/build.mjs`) first');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/ensure-chromium.sh\` first`);
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface ChatPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught page errors and alert()/confirm() dialogs: both must stay empty. */
  problems: string[];
  dialogs: string[];
}

/**
 * Opens the chat in its own browser context (its own localStorage, so its own nickname). With `nick` (and
 * `room`), it is a returning visitor: the page remembers that name and room, and connects with them. Without,
 * it is a first-time visitor, watching as a guest until a name is picked (see pickName). `query` is appended to
 * the URL (room, token, ws).
 */
export async function openChat(
  browser: Browser,
  stack: LocalStack,
  options: {
    nick?: string;
    room?: string;
    query?: string;
    context?: BrowserContextOptions;
    /** Runs on the new context before the page opens (routes, init scripts). */
    prepare?: (context: BrowserContext) => Promise<void>;
  } = {},
): Promise<ChatPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options.context });
  await options.prepare?.(context);
  if (options.nick !== undefined) {
    // Only when nothing is remembered yet: a reload or another tab keeps what the page has stored since.
    await context.addInitScript(
      ({ nick, room }) => {
        if (localStorage.getItem('wschat.nick') !== null) return;
        localStorage.setItem('wschat.nick', nick);
        if (room !== undefined) localStorage.setItem('wschat.room', room);
      },
      { nick: options.nick, room: options.room },
    );
  }
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  await page.goto(`${stack.url}${options.query ? `?${options.query}` : ''}`);
  return { page, context, problems, dialogs };
}

/** A watching visitor picks a name (and room) through the "pick a name" prompt, as a person would. */
export async function pickName(page: Page, nick: string, room?: string): Promise<void> {
  await page.locator('#pick-name').click();
  await page.locator('#welcome-nick').fill(nick);
  if (room !== undefined) await page.locator('#welcome-room').fill(room);
  await page.locator('#welcome-nick').press('Enter');
}

export async function waitOnline(page: Page, timeout = 10_000): Promise<void> {
  await page.locator('#status[data-state="online"]').waitFor({ timeout });
}

export async function send(page: Page, text: string): Promise<void> {
  const input = page.locator('#message-input');
  await input.fill(text);
  await input.press('Enter');
}

/** Texts of the chat messages in the list, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator('#messages .msg .text').allTextContents();
}

export function messageRow(page: Page, text: string) {
  return page.locator('#messages .msg').filter({ has: page.locator('.text', { hasText: text }) });
}

/** Waits until a message with exactly this text is shown. */
export async function waitForMessage(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (wanted) =>
      Array.from(document.querySelectorAll('#messages .msg .text')).some((n) => n.textContent === wanted),
    text,
    { timeout },
  );
}

/** Waits until an own message is acknowledged by the server (its receipt shows the check mark). */
export async function waitForAck(page: Page, text: string, timeout = 10_000): Promise<string> {
  const row = messageRow(page, text).and(page.locator('[data-state="delivered"]'));
  await row.waitFor({ timeout });
  return (await row.locator('.check').textContent()) ?? '';
}

export async function onlineCount(page: Page): Promise<number> {
  return Number(await page.locator('#online').getAttribute('data-count'));
}

export async function waitForOnlineCount(page: Page, count: number, timeout = 10_000): Promise<void> {
  await page.locator(`#online[data-count="${count}"]`).waitFor({ timeout });
}

/** The ids the gateway holds, so a test can find the one a page just opened. */
export async function waitForNewConnection(
  stack: LocalStack,
  before: string[],
  timeout = 5000,
): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const added = stack.gateway.connectionIds().filter((id) => !before.includes(id));
    if (added.length === 1) return added[0]!;
    if (Date.now() > deadline) throw new Error(`expected one new connection, saw ${added.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Retries an assertion until it passes or the time is up; then its last failure is the test's failure. */
export async function eventually(check: () => Promise<void> | void, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The text of the first element matching the selector, once it shows up. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent({ timeout: 5000 })) ?? '';
}

/**
 * Starts logging every connection status the page shows: a reconnect can pass through "reconnecting" faster
 * than a test could poll for it.
 */
export async function recordStatuses(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const status = document.getElementById('status')!;
    const log: string[] = [status.dataset.state ?? ''];
    (window as unknown as { statusLog: string[] }).statusLog = log;
    new MutationObserver(() => {
      if (log[log.length - 1] !== status.dataset.state) log.push(status.dataset.state ?? '');
    }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
  });
  return () => page.evaluate(() => [...(window as unknown as { statusLog: string[] }).statusLog]);
}

/**
 * One browser and one local stack for a test file, with the hooks each Chromium suite needs: both started before
 * the first test, each test's pages closed after it (the test fails if any page threw or opened a dialog), both
 * stopped at the end.
 */
export function useChatSuite() {
  let browser: Browser | undefined;
  let stack: LocalStack | undefined;
  const stacks: LocalStack[] = [];
  const opened: ChatPage[] = [];
  beforeAll(async () => {
    assertPrerequisites();
    mkdirSync(screenshotDir, { recursive: true });
    [browser, stack] = await Promise.all([launchBrowser(), startLocalStack({ port: 0, webDir })]);
    stacks.push(stack);
  });
  afterEach(async () => {
    const problems = opened.flatMap((p) => [...p.problems, ...p.dialogs]);
    await Promise.all(opened.splice(0).map((p) => p.context.close().catch(() => undefined)));
    expect(problems).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(stacks.map((s) => s.close()));
  });
  const started = () => {
    if (!browser || !stack) throw new Error('useChatSuite: the browser and stack start in beforeAll');
    return { browser, stack };
  };
  return {
    get browser(): Browser {
      return started().browser;
    },
    /** The suite's stack; `startStack` makes others (other settings), closed at the end too. */
    get stack(): LocalStack {
      return started().stack;
    },
    async startStack(options: Omit<LocalStackOptions, 'webDir'>): Promise<LocalStack> {
      const extra = await startLocalStack({ webDir, ...options });
      stacks.push(extra);
      return extra;
    },
    /** Opens the chat in a new context (see openChat); it is closed, and checked, after the test. */
    async chat(options: Parameters<typeof openChat>[2] = {}, target?: LocalStack): Promise<ChatPage> {
      const running = started();
      const page = await openChat(running.browser, target ?? running.stack, options);
      opened.push(page);
      return page;
    },
  };
}
