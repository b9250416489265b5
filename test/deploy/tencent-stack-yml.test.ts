import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import path from 'path';
import { DEPLOY_SET_GATEWAY_VARS, gatewayVariables } from '../../scripts/deploy/gateway';
import {
  GATEWAY_FUNCTION_URL_VARS,
  heartbeatSeconds,
  loadStack,
  pushUrlOf,
  type Stack,
} from '../../scripts/deploy/stack';
import { ensureBundles, ROOT } from './harness';
import { GATEWAY_ENV_VARS } from '../../code/gateway/config';

/**
 * scripts/deploy/tencent-stack.yml, the functions' configuration and the gateway's configuration agree: every variable the code
 * requires is set, the push URL and the secret reach both sides, and no credentials are in the file.
 */

const SOURCE = readFileSync(path.join(ROOT, 'scripts/deploy/tencent-stack.yml'), 'utf8');
const ENV = { COS_BUCKET: 'wschat-1250000000', AUTH_SECRET: 'x'.repeat(32), PUBLISH_TOKEN: 'y'.repeat(32) };
const stack = (env: Record<string, string> = ENV): Stack => loadStack(SOURCE, { root: ROOT, env });

/** The variables code/config.ts reads with required(): the code, not this test, says what is required. */
const REQUIRED = [
  ...readFileSync(path.join(ROOT, 'code', 'config.ts'), 'utf8').matchAll(/required\(\s*env,\s*'([A-Z_]+)'/g),
].map((m) => m[1]!);

/** What phase 5 merges into every function, beside scripts/deploy/tencent-stack.yml's variables. */
const SET_BY_PHASE_5 = ['PUSH_URL', 'GATEWAY_SECRET'];

/** The gateway's variables: its one list (code/gateway/config.ts). */
const gatewayVars: readonly string[] = GATEWAY_ENV_VARS.map((v) => v.name);

beforeAll(async () => {
  await ensureBundles();
});

describe('scripts/deploy/tencent-stack.yml and the code it deploys', () => {
  it('names handlers that exist in the built bundles and load without any configuration', () => {
    const s = stack();
    expect(s.functions.map((f) => f.key).sort()).toEqual([
      'cleanup',
      'publish',
      'register',
      'sweep',
      'transport',
    ]);
    for (const fn of s.functions) {
      expect(fn.runtime).toBe('Nodejs20.19');
      const [file, exported] = fn.handler.split('.') as [string, string];
      const bundle = path.join(fn.codeDir, `${file}.js`);
      expect(existsSync(bundle)).toBe(true);
      const loaded = spawnSync(
        process.execPath,
        [
          '-e',
          'const m = require(process.argv[1]); process.stdout.write(typeof m[process.argv[2]]);',
          bundle,
          exported,
        ],
        { env: {}, encoding: 'utf8' },
      );
      expect(loaded.stderr).toBe('');
      expect(loaded.stdout).toBe('function');
    }
  });

  it('deploys every function the build produces', () => {
    const built = readdirSync(path.join(ROOT, 'dist', 'functions')).filter((d) =>
      existsSync(path.join(ROOT, 'dist', 'functions', d, 'index.js')),
    );
    expect(
      stack()
        .functions.map((f) => path.basename(f.codeDir))
        .sort(),
    ).toEqual(built.sort());
  });

  it('gives every function each variable the code requires, from the file or from phase 5', () => {
    expect(REQUIRED).toEqual(expect.arrayContaining(['COS_BUCKET', 'COS_REGION', 'PUSH_URL']));
    for (const fn of stack().functions) {
      for (const name of REQUIRED) {
        const fromFile = Boolean(fn.variables[name]);
        expect({ fn: fn.key, name, set: fromFile || SET_BY_PHASE_5.includes(name) }).toEqual({
          fn: fn.key,
          name,
          set: true,
        });
      }
      for (const name of SET_BY_PHASE_5) expect(fn.variables[name]).toBeUndefined();
      expect(fn.variables.COS_BUCKET).toBe(ENV.COS_BUCKET);
      expect(fn.variables.COS_KEY_PREFIX).toBe(stack().bucket.keyPrefix);
    }
  });

  it('sets only variables the gateway knows, and every one the contract requires', () => {
    const s = stack();
    const names = gatewayVars;
    const urls = Object.fromEntries(
      Object.values(GATEWAY_FUNCTION_URL_VARS).map((v) => [v, `https://${v}.example`]),
    );
    const vars = gatewayVariables(s, 'the-secret', urls);
    for (const key of Object.keys(vars))
      expect({ key, known: names.includes(key) }).toEqual({ key, known: true });
    for (const key of [
      'GATEWAY_SECRET',
      'GATEWAY_INVOKER',
      'GATEWAY_PUSH_HOST',
      'GATEWAY_PUSH_PORT',
      ...Object.values(GATEWAY_FUNCTION_URL_VARS),
      ...DEPLOY_SET_GATEWAY_VARS,
    ]) {
      expect(vars[key]).toBeTruthy();
    }
    expect(vars.GATEWAY_INVOKER).toBe('url');
    // The four functions the gateway invokes have URLs; the sweep has a timer instead.
    for (const key of Object.keys(GATEWAY_FUNCTION_URL_VARS))
      expect(s.functions.find((f) => f.key === key)!.url).toBe(true);
    expect(s.functions.find((f) => f.key === 'sweep')).toMatchObject({
      url: false,
      timer: { cron: '0 */5 * * * * *' },
    });
  });

  it('points the functions at the gateway push listener, with one secret on both sides', () => {
    const s = stack();
    const vars = gatewayVariables(s, 'the-secret', {});
    expect(pushUrlOf(s)).toBe(`http://${vars.GATEWAY_PUSH_HOST}:${vars.GATEWAY_PUSH_PORT}/push`);
    expect(vars.GATEWAY_PUSH_HOST).toBe(s.gateway.privateIp);
    expect(vars.GATEWAY_SECRET).toBe('the-secret');
    // The push port is in the security group only for the VPC, and the host's IP lies in the functions' subnet.
    expect(s.gateway.privateIp.startsWith('10.8.1.')).toBe(true);
    expect(s.network.subnetCidr).toBe('10.8.1.0/24');
  });

  it('keeps heartbeats, idle timeout and connection TTL consistent', () => {
    const s = stack();
    const idle = Number(s.gateway.variables.GATEWAY_IDLE_TIMEOUT_SECONDS);
    expect(heartbeatSeconds(s)).toBe(idle / 3);
    for (const fn of s.functions) {
      expect(Number(fn.variables.CONNECTION_TTL_SECONDS)).toBeGreaterThanOrEqual(2 * heartbeatSeconds(s));
      expect(Number(fn.variables.PUSH_BUDGET_MS)).toBeLessThan(fn.timeoutSeconds * 1000);
    }
  });

  it('contains no credentials, and takes secrets only from the deploy environment', () => {
    expect(SOURCE).not.toMatch(/AKID[A-Za-z0-9]{8,}/);
    expect(SOURCE).not.toMatch(/^\s*(secret_?id|secret_?key|TENCENT_SECRET_\w+|TENCENTCLOUD_\w+)\s*:/im);
    const unset = stack({ COS_BUCKET: 'wschat-1250000000' });
    for (const fn of unset.functions) {
      expect(fn.variables.AUTH_SECRET).toBeUndefined();
      expect(fn.variables.PUBLISH_TOKEN).toBeUndefined();
    }
    const set = stack();
    expect(set.functions.find((f) => f.key === 'register')!.variables.AUTH_SECRET).toBe(ENV.AUTH_SECRET);
    expect(set.functions.find((f) => f.key === 'cleanup')!.variables.AUTH_SECRET).toBeUndefined();
    expect(set.functions.find((f) => f.key === 'publish')!.variables.PUBLISH_TOKEN).toBe(ENV.PUBLISH_TOKEN);
  });
});
