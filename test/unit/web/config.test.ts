import fc from 'fast-check';
import { ConfigError, chooseWsUrl, loadConfig } from '../../../web/config';
import { DEFAULT_CLIENT_LIMITS } from '../../helpers/client-limits';

/** Issue #15, finding 2: the page connects only to its own origin or to origins its config.json allows. */

const PAGE = 'https://chat.example.com/app/?room=x';

describe('chooseWsUrl', () => {
  it('without ?ws=, uses the address config.json names', () => {
    expect(chooseWsUrl({ pageUrl: PAGE, configured: 'wss://gw.example.com/ws' })).toEqual({
      ok: true,
      wsUrl: 'wss://gw.example.com/ws',
    });
    expect(chooseWsUrl({ pageUrl: PAGE }).ok).toBe(false);
  });

  it('regression: refuses a ?ws= on another origin', () => {
    for (const override of [
      'ws://other-host/ws',
      'wss://evil.example/ws',
      'wss://chat.example.com:8443/ws',
      'ws://chat.example.com/ws', // same host, other scheme: another origin
      '//evil.example/ws',
      'https://evil.example/ws',
      'wss://chat.example.com.evil.example/ws',
    ]) {
      const choice = chooseWsUrl({ pageUrl: PAGE, override, configured: 'wss://gw.example.com/ws' });
      expect(choice).toEqual({ ok: false, reason: expect.stringContaining('does not connect to') });
    }
  });

  it('accepts ?ws= on the page origin, on config.json’s server, or on an allowed origin', () => {
    const configured = 'wss://gw.example.com/ws';
    const allowedWsOrigins = ['wss://backup.example.com', 'wss://alt.example.com:8443/ignored/path'];
    const accepted = (override: string) =>
      chooseWsUrl({ pageUrl: PAGE, override, configured, allowedWsOrigins });
    expect(accepted('/ws')).toEqual({ ok: true, wsUrl: 'wss://chat.example.com/ws' });
    expect(accepted('https://chat.example.com/other')).toEqual({
      ok: true,
      wsUrl: 'wss://chat.example.com/other',
    });
    expect(accepted('wss://gw.example.com/release/ws')).toEqual({
      ok: true,
      wsUrl: 'wss://gw.example.com/release/ws',
    });
    expect(accepted('wss://backup.example.com/ws?x=1').ok).toBe(true);
    expect(accepted('wss://alt.example.com:8443/ws').ok).toBe(true);
    expect(accepted('wss://alt.example.com/ws').ok).toBe(false);
  });

  it('ignores allow-list entries that are not absolute ws:// or wss:// origins', () => {
    for (const entry of ['*', '', 'evil.example', '/ws', 'https://evil.example', 'javascript:alert(1)']) {
      expect(
        chooseWsUrl({ pageUrl: PAGE, override: 'wss://evil.example/ws', allowedWsOrigins: [entry] }).ok,
      ).toBe(false);
    }
  });

  it('property: an accepted ?ws= always has an origin the page trusts', () => {
    const host = fc.constantFrom(
      'chat.example.com',
      'gw.example.com',
      'evil.example',
      '127.0.0.1',
      'localhost',
    );
    const origin = fc
      .tuple(fc.constantFrom('ws', 'wss', 'http', 'https'), host, fc.constantFrom('', ':80', ':443', ':8080'))
      .map(([scheme, h, port]) => `${scheme}://${h}${port}`);
    fc.assert(
      fc.property(
        origin,
        fc.array(origin, { maxLength: 3 }),
        fc.constantFrom('/ws', '/x?y=1', ''),
        (o, list, path) => {
          const choice = chooseWsUrl({
            pageUrl: PAGE,
            override: `${o}${path}`,
            configured: 'wss://gw.example.com/ws',
            allowedWsOrigins: list,
          });
          if (!choice.ok) return;
          const got = new URL(choice.wsUrl).origin;
          const trusted = new Set(['wss://chat.example.com', 'wss://gw.example.com']);
          for (const entry of list) if (/^wss?:/.test(entry)) trusted.add(new URL(entry).origin);
          expect(trusted.has(got)).toBe(true);
        },
      ),
    );
  });
});

describe('loadConfig', () => {
  const config = (body: unknown) => () => Promise.resolve(body);
  const missing = () => Promise.reject(new Error('HTTP 404'));

  it('regression: refuses ?ws= to another host, even with a token in the link', async () => {
    await expect(
      loadConfig(
        { ws: 'ws://other-host/ws', token: 'a.b' },
        PAGE,
        config({ wsUrl: 'wss://gw.example.com/ws' }),
      ),
    ).rejects.toThrow(ConfigError);
    // Without config.json only the page's own origin is trusted.
    await expect(loadConfig({ ws: 'ws://other-host/ws' }, PAGE, missing)).rejects.toThrow(
      'does not connect to ws://other-host',
    );
  });

  it('follows ?ws= to an origin config.json allows, and to its own origin without config.json', async () => {
    const allowed = await loadConfig(
      { ws: 'wss://backup.example.com/ws' },
      PAGE,
      config({ wsUrl: 'wss://gw.example.com/ws', allowedWsOrigins: ['wss://backup.example.com', 42] }),
    );
    expect(allowed.wsUrl).toBe('wss://backup.example.com/ws');
    expect((await loadConfig({ ws: '/ws' }, PAGE, missing)).wsUrl).toBe('wss://chat.example.com/ws');
  });

  it('reads the limits config.json serves, keeping only positive whole numbers', async () => {
    const served = await loadConfig({}, PAGE, config({ wsUrl: '/ws', limits: DEFAULT_CLIENT_LIMITS }));
    expect(served.limits).toEqual(DEFAULT_CLIENT_LIMITS);
    const odd = await loadConfig(
      {},
      PAGE,
      config({
        wsUrl: '/ws',
        limits: { maxMessageBytes: '4096', maxNickLength: -1, historyPage: 2.5, membersPage: 7 },
      }),
    );
    expect(odd.limits).toEqual({ membersPage: 7 });
    expect((await loadConfig({}, PAGE, config({ wsUrl: '/ws' }))).limits).toEqual({});
  });
});
