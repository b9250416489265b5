import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import path from 'path';
import { parse } from 'yaml';
import { loadStack, PUSH_URL_PLACEHOLDER, validateStack, type Stack } from '../../scripts/deploy/stack';
import { ensureBundles, ROOT } from './harness';

/**
 * serverless.yml checked against the code it deploys: the bundles it names exist and load, every variable
 * code/config.ts requires is given to every function, no credentials are in it, and the WEBSOCKET endpoint binds
 * exactly the three gateway functions.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SOURCE = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
const DOC = parse(SOURCE, { merge: true }) as JsonObject;
const INSTANCES = DOC.instances as Record<string, { component: string; inputs: JsonObject }>;
const FUNCTIONS = Object.entries(INSTANCES).filter(([, i]) => i.component === 'scf');
const variablesOf = (inputs: JsonObject) =>
  ((inputs.environment as JsonObject | undefined)?.variables ?? {}) as Record<string, Json>;

/** The variables code/config.ts reads with required(): the code, not this test, says what is required. */
const REQUIRED = [
  ...readFileSync(path.join(ROOT, 'code', 'config.ts'), 'utf8').matchAll(/required\(env, '([A-Z_]+)'/g),
].map((m) => m[1]!);

const SAMPLE_ENV = { COS_BUCKET: 'wschat-1250000000', AUTH_SECRET: 'x'.repeat(32) };

function resolved(env: Record<string, string> = SAMPLE_ENV, pushUrl = PUSH_URL_PLACEHOLDER): Stack {
  return loadStack(SOURCE, { root: ROOT, env, pushUrl });
}

beforeAll(async () => {
  await ensureBundles();
});

describe('serverless.yml', () => {
  it('names handlers that exist in the built bundles and load without any configuration', () => {
    expect(FUNCTIONS.map(([name]) => name).sort()).toEqual([
      'cleanup',
      'publish',
      'register',
      'sweep',
      'transport',
    ]);
    for (const [name, { inputs }] of FUNCTIONS) {
      expect(inputs.runtime).toBe('Nodejs16.13');
      expect(inputs.src).toBe(`dist/functions/${name}`);
      const [file, exported] = String(inputs.handler).split('.') as [string, string];
      const bundle = path.join(ROOT, String(inputs.src), `${file}.js`);
      expect(existsSync(bundle)).toBe(true);
      // A fresh node with an empty environment: loading must not need COS_BUCKET, PUSH_URL or credentials.
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
      expect(loaded.status).toBe(0);
      expect(loaded.stdout).toBe('function');
    }
  });

  it('deploys every function the build produces', () => {
    const built = readdirSync(path.join(ROOT, 'dist', 'functions')).filter((d) =>
      existsSync(path.join(ROOT, 'dist', 'functions', d, 'index.js')),
    );
    const deployed = FUNCTIONS.map(([, i]) => String(i.inputs.src).replace('dist/functions/', ''));
    expect(deployed.sort()).toEqual(built.sort());
  });

  it('gives every function each variable the code requires, the push URL as a placeholder', () => {
    expect(REQUIRED.sort()).toEqual(['COS_BUCKET', 'COS_REGION', 'PUSH_URL']);
    for (const [, { inputs }] of FUNCTIONS) {
      const vars = variablesOf(inputs);
      for (const name of REQUIRED) expect(String(vars[name] ?? '')).not.toBe('');
      expect(vars.PUSH_URL).toBe('${pushUrl}');
    }
    const stack = resolved();
    for (const fn of stack.functions) {
      expect(fn.variables).toMatchObject({
        COS_BUCKET: 'wschat-1250000000',
        COS_REGION: stack.region,
        PUSH_URL: PUSH_URL_PLACEHOLDER,
      });
    }
    const later = resolved(SAMPLE_ENV, 'http://set-x.cb-guangzhou.apigateway.tencentyun.com/api-1');
    for (const fn of later.functions) {
      expect(fn.variables.PUSH_URL).toBe('http://set-x.cb-guangzhou.apigateway.tencentyun.com/api-1');
    }
  });

  it('contains no credentials, and takes secrets only from the deploy environment', () => {
    expect(SOURCE).not.toMatch(/AKID[A-Za-z0-9]{8,}/);
    expect(SOURCE).not.toMatch(/^\s*(secret_?id|secret_?key|TENCENT_SECRET_\w+|TENCENTCLOUD_\w+)\s*:/im);
    for (const [, { inputs }] of FUNCTIONS) {
      for (const [key, value] of Object.entries(variablesOf(inputs))) {
        if (/SECRET|TOKEN|PASSWORD|KEY$/i.test(key)) expect(value).toBe(`\${secret:${key}}`);
      }
    }
    const unset = resolved({ COS_BUCKET: 'wschat-1250000000' });
    for (const fn of unset.functions) {
      expect(fn.variables.AUTH_SECRET).toBeUndefined();
      expect(fn.variables.PUBLISH_TOKEN).toBeUndefined();
    }
    const set = resolved();
    expect(set.functions.find((f) => f.instance === 'register')!.variables.AUTH_SECRET).toBe(
      '${env:AUTH_SECRET}',
    );
    expect(JSON.stringify(set.instances)).not.toContain(SAMPLE_ENV.AUTH_SECRET);
  });

  it('binds exactly the three gateway functions to the WEBSOCKET endpoint', () => {
    const endpoints = Object.values(INSTANCES)
      .filter((i) => i.component === 'apigateway')
      .flatMap((i) => i.inputs.endpoints as JsonObject[]);
    const websocket = endpoints.filter((e) => e.protocol === 'WEBSOCKET');
    expect(websocket).toHaveLength(1);
    const stack = resolved();
    const nameOf = (instance: string) => stack.functions.find((f) => f.instance === instance)!.functionName;
    const bound = (websocket[0]!.function as JsonObject) ?? {};
    expect(Object.keys(bound).sort()).toEqual([
      'cleanupFunctionName',
      'registerFunctionName',
      'transportFunctionName',
    ]);
    expect(stack.websocket).toMatchObject({
      transport: nameOf('transport'),
      register: nameOf('register'),
      cleanup: nameOf('cleanup'),
    });
    expect(new Set([stack.websocket.transport, stack.websocket.register, stack.websocket.cleanup]).size).toBe(
      3,
    );
    // The publish API: POST /publish and POST /token, on the publish function, with the integrated response the
    // handler's {statusCode, headers, body} needs.
    const http = endpoints.filter((e) => e.protocol !== 'WEBSOCKET');
    expect(http.map((e) => `${String(e.method)} ${String(e.path)}`).sort()).toEqual([
      'POST /publish',
      'POST /token',
    ]);
    for (const e of http) expect(e.function).toMatchObject({ isIntegratedResponse: true });
    const publishName = nameOf('publish');
    for (const name of resolved()
      .instances.filter((i) => i.component === 'apigateway')
      .flatMap((i) => i.inputs.endpoints as JsonObject[])
      .filter((e) => e.protocol !== 'WEBSOCKET')
      .map((e) => (e.function as JsonObject).functionName)) {
      expect(name).toBe(publishName);
    }
  });

  it('keeps the push budget below every timeout, and the sweep on a timer', () => {
    const stack = resolved();
    expect(() => validateStack(stack)).not.toThrow();
    const transport = stack.functions.find((f) => f.instance === 'transport')!;
    expect(transport.timeoutSeconds).toBe(30);
    expect(Number(transport.variables.PUSH_BUDGET_MS)).toBe(20000);
    const sweep = INSTANCES.sweep!.inputs;
    expect(sweep.events).toEqual([
      { timer: { parameters: expect.objectContaining({ cronExpression: '0 */5 * * * * *', enable: true }) } },
    ]);
  });
});
