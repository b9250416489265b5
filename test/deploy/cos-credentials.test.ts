import http from 'http';
import type { AddressInfo } from 'net';
import { createCosSend } from '../../code/cos/cos-http';
import { createObjectStore } from '../../code/cos/object-store';
import type { CosSettings } from '../../code/config';

/**
 * The functions' COS client signs each request with the keys in the environment at that moment: an SCF execution
 * role's temporary keys (TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN) may change inside a warm container.
 */

interface Seen {
  authorization: string;
  token: string | undefined;
}

describe('COS credentials per request', () => {
  let server: http.Server;
  let seen: Seen[];
  let endpoint: string;

  beforeAll(async () => {
    seen = [];
    server = http.createServer((req, res) => {
      seen.push({
        authorization: String(req.headers.authorization ?? ''),
        token: req.headers['x-cos-security-token'] as string | undefined,
      });
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { ETag: '"d41d8cd98f00b204e9800998ecf8427e"', 'Content-Length': 0 });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_cos`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const settings = (): CosSettings => ({
    bucket: 'wschat-1250000000',
    region: 'ap-guangzhou',
    endpoint,
    keyPrefix: 'wschat/',
    secretId: 'AKIDfromColdStart',
    secretKey: 'key-from-cold-start',
    sessionToken: 'token-from-cold-start',
    timeoutMs: 5000,
  });

  it('reads the role keys from the environment before every request, not once per container', async () => {
    const env: NodeJS.ProcessEnv = {
      TENCENTCLOUD_SECRETID: 'AKIDfirstTemporaryKey',
      TENCENTCLOUD_SECRETKEY: 'first-key',
      TENCENTCLOUD_SESSIONTOKEN: 'first-token',
    };
    const store = createObjectStore(settings(), createCosSend(settings(), env));
    seen.length = 0;

    await store.put('a', '{}');
    // SCF hands the container rotated keys between two invocations.
    env.TENCENTCLOUD_SECRETID = 'AKIDsecondTemporaryKey';
    env.TENCENTCLOUD_SECRETKEY = 'second-key';
    env.TENCENTCLOUD_SESSIONTOKEN = 'second-token';
    await store.put('b', '{}');

    expect(seen).toHaveLength(2);
    expect(seen[0]!.authorization).toContain('q-ak=AKIDfirstTemporaryKey');
    expect(seen[0]!.token).toBe('first-token');
    expect(seen[1]!.authorization).toContain('q-ak=AKIDsecondTemporaryKey');
    expect(seen[1]!.token).toBe('second-token');
  });

  it('falls back to the configured keys when the environment has none', async () => {
    const store = createObjectStore(settings(), createCosSend(settings(), {}));
    seen.length = 0;

    await store.put('c', '{}');

    expect(seen[0]!.authorization).toContain('q-ak=AKIDfromColdStart');
    expect(seen[0]!.token).toBe('token-from-cold-start');
  });
});
