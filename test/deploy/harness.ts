import { spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { buildSync } from 'esbuild';
import { loadStack, PUSH_URL_PLACEHOLDER } from '../../scripts/deploy/stack';
import type { FakeCloud } from './fake-cloud-api';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FUNCTION_NAMES = ['register', 'transport', 'cleanup', 'publish', 'sweep'];

export const KEYS = {
  secretId: 'AKIDfakeTestKey0000000000000000000000',
  secretKey: 'fake-secret-key-for-tests',
};

const bundle = (name: string) => path.join(ROOT, 'dist', 'functions', name, 'index.js');

/**
 * The function bundles, built once if missing (`npm test` builds before jest). A lock directory keeps two test
 * files from building at the same time: build.mjs deletes dist/functions before writing it.
 */
export async function ensureBundles(): Promise<void> {
  if (FUNCTION_NAMES.every((n) => existsSync(bundle(n)))) return;
  const lock = path.join(ROOT, 'dist', '.deploy-tests-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`stale lock ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!existsSync(lock) && FUNCTION_NAMES.every((n) => existsSync(bundle(n)))) return;
    }
  }
  try {
    if (!FUNCTION_NAMES.every((n) => existsSync(bundle(n)))) {
      const built = spawnSync(process.execPath, ['scripts/build.mjs'], {
        cwd: ROOT,
        env: { ...process.env, QUIET_BUILD: '1' },
        encoding: 'utf8',
      });
      if (built.status !== 0) throw new Error(`node scripts/build.mjs failed:\n${built.stderr}`);
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface FakeBin {
  dir: string;
  binDir: string;
  logFile: string;
  outDir: string;
}

export interface ToolRun {
  tool: string;
  args: string[];
  cwd: string;
  instanceText: string | null;
  env: Record<string, string | null>;
}

let fakeCliScript: string | undefined;

/** test/deploy/fixtures/fake-cli.ts, bundled once per test process. */
function fakeCli(): string {
  if (fakeCliScript === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-fake-cli-'));
    fakeCliScript = path.join(dir, 'fake-cli.js');
    buildSync({
      entryPoints: [path.join(__dirname, 'fixtures', 'fake-cli.ts')],
      outfile: fakeCliScript,
      bundle: true,
      platform: 'node',
      target: 'node16',
      format: 'cjs',
      logLevel: 'warning',
    });
  }
  return fakeCliScript;
}

/** Removes the bundled fake CLI (call in afterAll). */
export function removeFakeCli(): void {
  if (fakeCliScript !== undefined) rmSync(path.dirname(fakeCliScript), { recursive: true, force: true });
  fakeCliScript = undefined;
}

/** A temp folder with fake `scf`, `npm` and `serverless` commands (test/deploy/fixtures/fake-cli.ts) and an out dir. */
export function makeFakeBin(): FakeBin {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-deploy-'));
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir);
  const script = fakeCli();
  for (const name of ['scf', 'npm', 'serverless']) {
    const wrapper = path.join(binDir, name);
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${script}" ${name} "$@"\n`, {
      mode: 0o755,
    });
  }
  return { dir, binDir, logFile: path.join(dir, 'tools.jsonl'), outDir: path.join(dir, 'out') };
}

export function toolRuns(bin: FakeBin): ToolRun[] {
  if (!existsSync(bin.logFile)) return [];
  return readFileSync(bin.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ToolRun);
}

/**
 * The environment of a deploy run, built from nothing so that the developer's own STAGE, COS_BUCKET or keys never
 * leak in: PATH (fake tools first), HOME, the fake keys, the test hooks.
 */
export function deployEnv(
  bin: FakeBin,
  apiUrl: string,
  controlUrl: string,
  extra: Record<string, string | undefined> = {},
) {
  const env: Record<string, string> = {
    PATH: `${bin.binDir}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: bin.dir,
    TENCENT_SECRET_ID: KEYS.secretId,
    TENCENT_SECRET_KEY: KEYS.secretKey,
    COS_BUCKET: 'wschat-test-1250000000',
    AUTH_SECRET: 'test-auth-secret-value-42',
    PUBLISH_TOKEN: 'test-publish-token-value-43',
    TENCENTCLOUD_API_ENDPOINT: apiUrl,
    FAKE_CLOUD_CONTROL: controlUrl,
    FAKE_TOOL_LOG: bin.logFile,
    DEPLOY_OUT_DIR: bin.outDir,
    DEPLOY_POLL_INTERVAL_MS: '5',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface DeployRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bash scripts/deploy-two-phase` (what `npm run deploy` runs) as a child process, asynchronously: the fake
 * cloud lives in this process and must keep answering. */
export function runDeploy(args: string[], env: Record<string, string>): Promise<DeployRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts', 'deploy-two-phase'), ...args], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function phaseHeaders(stdout: string): number[] {
  return [...stdout.matchAll(/^==> Phase (\d)\//gm)].map((m) => Number(m[1]));
}

/**
 * Puts into the fake cloud what a successful phase 2 leaves behind (functions with the variables of serverless.yml
 * and the placeholder PUSH_URL, the gateway service), using the deploy's own reading of serverless.yml.
 */
export function seedDeployedStack(cloud: FakeCloud, env: Record<string, string>): void {
  const stack = loadStack(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), {
    root: ROOT,
    env,
    pushUrl: PUSH_URL_PLACEHOLDER,
  });
  for (const fn of stack.functions) {
    const variables = Object.fromEntries(
      Object.entries(fn.variables).map(([k, v]) => [
        k,
        v.replace(/^\$\{env:(\w+)\}$/, (_m, n: string) => env[n] ?? ''),
      ]),
    );
    cloud.addFunction(fn.functionName, variables).Timeout = fn.timeoutSeconds;
  }
  const gateway = stack.instances.find((i) => i.component === 'apigateway')!;
  cloud.deployGateway(gateway.inputs);
}
