import { spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { startFakeCloud, type FakeCloud } from './fake-cloud-api';
import { startFakeCos, type FakeCos } from './fake-cos';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FUNCTION_NAMES = ['register', 'transport', 'cleanup', 'publish', 'sweep'];
export const BUCKET = 'wschat-test-1250000000';

export const KEYS = {
  secretId: 'AKIDfakeTestKey0000000000000000000000',
  secretKey: 'fake-secret-key-for-tests',
};

const bundle = (name: string) => path.join(ROOT, 'dist', 'functions', name, 'index.js');
/** The lead's gateway (code/gateway), once it is on this branch: then the build must have made its bundle too. */
export const GATEWAY_MAIN = path.join(ROOT, 'code', 'gateway', 'main.ts');
export const GATEWAY_BUNDLE = path.join(ROOT, 'dist', 'gateway', 'index.js');
const built = () =>
  FUNCTION_NAMES.every((n) => existsSync(bundle(n))) &&
  (!existsSync(GATEWAY_MAIN) || existsSync(GATEWAY_BUNDLE));

/**
 * The function bundles, built once if missing (`npm test` builds before jest). A lock directory keeps two test
 * files from building at the same time: build.mjs deletes dist/functions before writing it.
 */
export async function ensureBundles(): Promise<void> {
  if (built()) return;
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
      if (!existsSync(lock) && built()) return;
    }
  }
  try {
    if (!built()) {
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

/** One test's world: the fake cloud, the fake COS, a temp dir with a fake `npm` and a stand-in gateway bundle. */
export interface World {
  cloud: FakeCloud;
  cos: FakeCos;
  dir: string;
  outDir: string;
  npmLog: string;
  gatewayBundle: string;
  env(extra?: Record<string, string | undefined>): Record<string, string>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const cloud = await startFakeCloud(KEYS);
  const cos = await startFakeCos();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-deploy-'));
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir);
  const npmLog = path.join(dir, 'npm.log');
  // `npm run build` is the project's real build in a real deploy; here the bundles are built once by ensureBundles.
  writeFileSync(
    path.join(binDir, 'npm'),
    `#!/bin/sh\necho "npm $*" >> "${npmLog}"\necho "fake npm: $*"\nexit "\${FAKE_NPM_EXIT:-0}"\n`,
    { mode: 0o755 },
  );
  // Until the lead's gateway is on this branch, a stand-in bundle (the deploy only ships it).
  const gatewayBundle = path.join(dir, 'gateway-index.js');
  writeFileSync(gatewayBundle, "'use strict';\n// stand-in gateway bundle for the deploy tests\n");
  const outDir = path.join(dir, 'out');
  return {
    cloud,
    cos,
    dir,
    outDir,
    npmLog,
    gatewayBundle,
    env(extra = {}) {
      // Built from nothing, so that the developer's own STAGE, COS_BUCKET or keys never leak in.
      const env: Record<string, string> = {
        PATH: `${binDir}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
        HOME: dir,
        TENCENTCLOUD_SECRET_ID: KEYS.secretId,
        TENCENTCLOUD_SECRET_KEY: KEYS.secretKey,
        COS_BUCKET: BUCKET,
        AUTH_SECRET: 'test-auth-secret-value-42',
        PUBLISH_TOKEN: 'test-publish-token-value-43',
        GATEWAY_BUNDLE: gatewayBundle,
        TENCENTCLOUD_API_ENDPOINT: cloud.url,
        DEPLOY_COS_ENDPOINT: cos.endpoint,
        DEPLOY_OUT_DIR: outDir,
        DEPLOY_POLL_INTERVAL_MS: '1',
        DEPLOY_WAIT_SECONDS: '20',
      };
      for (const [key, value] of Object.entries(extra)) {
        if (value === undefined) delete env[key];
        else env[key] = value;
      }
      return env;
    },
    async close() {
      await cloud.close();
      await cos.close();
    },
  };
}

export interface DeployRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bash scripts/deploy-two-phase` (what `npm run deploy` runs) as a child process, asynchronously: the fakes
 * live in this process and must keep answering. */
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
