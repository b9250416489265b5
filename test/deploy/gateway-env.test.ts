import { spawn, execFileSync, type ChildProcess } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { gatewayVariables, releaseArchive } from '../../scripts/deploy/gateway';
import { GATEWAY_FUNCTION_URL_VARS, loadStack } from '../../scripts/deploy/stack';
import { ensureBundles, GATEWAY_BUNDLE, ROOT } from './harness';
import { DEFAULT_CLIENT_LIMITS } from '../helpers/client-limits';

/** The real gateway bundle starts with exactly the environment the deploy gives it (gateway.env) and serves the
 * release the deploy ships. */

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the deployed gateway environment', () => {
  let child: ChildProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    await ensureBundles();
    dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-gwenv-'));
  });

  afterAll(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the real gateway with the deploy environment, and serves the shipped page', async () => {
    const stack = loadStack(readFileSync(path.join(ROOT, 'scripts/deploy/tencent-stack.yml'), 'utf8'), {
      root: ROOT,
      env: { COS_BUCKET: 'wschat-1250000000', AUTH_SECRET: 'x'.repeat(32), GATEWAY_BUNDLE },
    });
    // The release as the host unpacks it.
    const archive = path.join(dir, 'release.tgz');
    writeFileSync(archive, releaseArchive(ROOT, stack, true));
    execFileSync('tar', ['-xzf', archive, '-C', dir]);
    const urls = Object.fromEntries(
      Object.values(GATEWAY_FUNCTION_URL_VARS).map((v, i) => [
        v,
        `https://1250000000-${i}.in.ap-guangzhou.tencentscf.com`,
      ]),
    );
    const env: Record<string, string> = {
      ...gatewayVariables(stack, 'g'.repeat(64), urls),
      // Only what differs on this machine: loopback instead of the VPC address, free ports, the unpacked page.
      GATEWAY_PUSH_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_PUSH_PORT: '0',
      GATEWAY_WEB_DIR: path.join(dir, 'web'),
      PATH: process.env.PATH ?? '',
    };
    child = spawn(process.execPath, [path.join(dir, 'gateway', 'index.js')], { env });
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      const take = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening .*public=[^:\s]+:(\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child!.stdout!.on('data', take);
      child!.stderr!.on('data', take);
      child!.on('exit', (code) => reject(new Error(`the gateway exited with ${code}:\n${output}`)));
    });

    expect((await get(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(JSON.parse((await get(`http://127.0.0.1:${port}/config.json`)).body)).toEqual({
      wsUrl: '/ws',
      heartbeatSeconds: 200,
      authRequired: true,
      limits: DEFAULT_CLIENT_LIMITS,
    });
    const page = await get(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<');
  });
});
