import { readFileSync } from 'fs';
import path from 'path';
import { ConfigError, FUNCTION_ENV_VARS, loadConfig } from '../../code/config';

const base = {
  COS_BUCKET: 'chat-1250000000',
  COS_REGION: 'ap-guangzhou',
  PUSH_URL: 'http://10.0.0.8:8081/push',
  GATEWAY_SECRET: 'config-test-gateway-secret-0123456789',
  TENCENTCLOUD_SECRETID: 'id',
  TENCENTCLOUD_SECRETKEY: 'key',
  TENCENTCLOUD_SESSIONTOKEN: 'token',
};

function errorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the execution role credentials SCF injects and applies defaults', () => {
    const config = loadConfig(base);
    expect(config.cos).toMatchObject({
      secretId: 'id',
      secretKey: 'key',
      sessionToken: 'token',
      keyPrefix: 'wschat/',
    });
    expect(config.push).toMatchObject({ concurrency: 48, retries: 2 });
    expect(config.defaultRoom).toBe('lobby');
    expect(config.authSecret).toBeUndefined();
    expect(config.limits.presenceMaxOnline).toBe(100);
    expect(loadConfig({ ...base, PRESENCE_MAX_ONLINE: '0' }).limits.presenceMaxOnline).toBe(0);
  });

  it.each([
    'COS_BUCKET',
    'COS_REGION',
    'PUSH_URL',
    'GATEWAY_SECRET',
    'TENCENTCLOUD_SECRETID',
    'TENCENTCLOUD_SECRETKEY',
  ])('names %s when it is missing', (name) => {
    expect(errorOf({ ...base, [name]: undefined })).toContain(name);
  });

  it('accepts explicit keys instead of a role, and a local endpoint without keys', () => {
    const explicit = { ...base, TENCENTCLOUD_SECRETID: undefined, TENCENTCLOUD_SECRETKEY: undefined };
    expect(loadConfig({ ...explicit, COS_SECRET_ID: 'a', COS_SECRET_KEY: 'b' }).cos.secretId).toBe('a');
    expect(loadConfig({ ...explicit, COS_ENDPOINT: 'http://127.0.0.1:9000/_cos' }).cos.secretId).toBe(
      'local',
    );
  });

  it('refuses malformed numbers, URLs and prefixes with the variable name', () => {
    expect(errorOf({ ...base, PUSH_CONCURRENCY: 'lots' })).toContain('PUSH_CONCURRENCY');
    expect(errorOf({ ...base, PUSH_CONCURRENCY: '0' })).toContain('from 1 to 1024');
    expect(errorOf({ ...base, PUSH_URL: 'set-x/api' })).toContain('PUSH_URL');
    expect(errorOf({ ...base, COS_KEY_PREFIX: '/abs' })).toContain('COS_KEY_PREFIX');
    expect(errorOf({ ...base, DEFAULT_ROOM: 'No Spaces' })).toContain('DEFAULT_ROOM');
    expect(errorOf({ ...base, PRESENCE_MAX_ONLINE: '-1' })).toContain('PRESENCE_MAX_ONLINE');
  });

  it('adds the trailing slash to a key prefix', () => {
    expect(loadConfig({ ...base, COS_KEY_PREFIX: 'apps/chat' }).cos.keyPrefix).toBe('apps/chat/');
  });
});

describe('the list of function variables', () => {
  it('is exactly what loadConfig reads, and .env.example documents each', () => {
    const read = new Set<string>();
    const recording = (env: Record<string, string | undefined>) =>
      new Proxy(env, {
        get(target, name: string) {
          read.add(name);
          return target[name];
        },
      });
    // Role keys first, explicit keys as the fallback: two runs see both branches.
    loadConfig(recording({ ...base, COS_ENDPOINT: 'http://127.0.0.1:1/_cos' }));
    loadConfig(
      recording({
        ...base,
        TENCENTCLOUD_SECRETID: undefined,
        TENCENTCLOUD_SECRETKEY: undefined,
        COS_SECRET_ID: 'a',
        COS_SECRET_KEY: 'b',
      }),
    );
    expect([...read].sort()).toEqual([...FUNCTION_ENV_VARS].sort());
    const example = readFileSync(path.join(__dirname, '../../.env.example'), 'utf8');
    for (const name of FUNCTION_ENV_VARS) expect(example).toContain(name);
  });
});
