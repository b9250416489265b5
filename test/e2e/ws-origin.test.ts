import type { AddressInfo } from 'net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { issueToken } from '../../code/chat/token';
import { assertPrerequisites, launchBrowser, pickName, textOf, waitOnline, webDir } from './chat-page';

/**
 * Issue #15, finding 2: the page follows `?ws=` only to its own origin or to an origin its config.json lists in
 * `allowedWsOrigins`; a link cannot make it send the user's token and a join to a server of the link's choosing.
 */

let browser: Browser;
let home: LocalStack;
let other: LocalStack;
let rogue: WebSocketServer;
/** What reached the rogue server: handshakes (with their sub-protocols) and frames. */
const rogueSaw: string[] = [];
const contexts: BrowserContext[] = [];
const problems: string[] = [];

beforeAll(async () => {
  assertPrerequisites();
  [browser, home, other] = await Promise.all([
    launchBrowser(),
    startLocalStack({ port: 0, webDir, env: { AUTH_SECRET: 'secret' } }),
    startLocalStack({ port: 0, webDir }),
  ]);
  rogue = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  rogue.on('connection', (socket, req) => {
    rogueSaw.push(`handshake ${req.headers['sec-websocket-protocol'] ?? ''}`);
    socket.on('message', (data) => rogueSaw.push(`frame ${String(data)}`));
  });
  await new Promise<void>((resolve) => rogue.once('listening', () => resolve()));
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (rogue ? rogue.close(() => resolve()) : resolve()));
  await Promise.all([home?.close(), other?.close()]);
});

/** Opens the home page with a query; `config` replaces what /config.json answers, as another deployment would. */
async function open(query: string, config?: Record<string, unknown>): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  if (config !== undefined) {
    await page.route('**/config.json', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify(config) }),
    );
  }
  await page.goto(`${home.url}?${query}`);
  return page;
}

const rogueUrl = () => `ws://127.0.0.1:${(rogue.address() as AddressInfo).port}/ws`;

test('regression: a ?ws= link to another server gets no connection, no token and no join', async () => {
  const token = issueToken('secret', { nick: 'Victim', room: 'vip', ttlSeconds: 600 });
  const page = await open(`ws=${encodeURIComponent(rogueUrl())}&token=${encodeURIComponent(token)}`);
  await page.locator('#status[data-state="offline"]').waitFor({ timeout: 10_000 });
  expect(await textOf(page, '#banner')).toContain(
    `does not connect to ws://127.0.0.1:${(rogue.address() as AddressInfo).port}`,
  );
  // The page decided before opening any socket, and it does not try again by itself.
  expect(rogueSaw).toEqual([]);
  expect(home.gateway.connectionIds()).toEqual([]);
});

test('a ?ws= on the page’s own origin is followed', async () => {
  const token = issueToken('secret', { nick: 'Member', room: 'vip', ttlSeconds: 600 });
  const page = await open(`ws=${encodeURIComponent('/ws')}&token=${encodeURIComponent(token)}`);
  await waitOnline(page);
  expect(home.gateway.connectionIds()).toHaveLength(1);
});

test('a ?ws= on an origin that config.json allows is followed; others still are not', async () => {
  const otherOrigin = new URL(other.wsUrl).origin;
  const config = { wsUrl: home.wsUrl, authRequired: false, allowedWsOrigins: [otherOrigin] };
  const allowed = await open(`ws=${encodeURIComponent(other.wsUrl)}&room=elsewhere`, config);
  await pickName(allowed, 'Traveller');
  await waitOnline(allowed);
  expect(other.gateway.connectionIds()).toHaveLength(1);

  const refused = await open(`ws=${encodeURIComponent(rogueUrl())}`, config);
  await refused.locator('#status[data-state="offline"]').waitFor({ timeout: 10_000 });
  expect(await textOf(refused, '#banner')).toContain('does not connect to');
  expect(rogueSaw).toEqual([]);
});
