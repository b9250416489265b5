import { execFileSync, spawnSync } from 'child_process';
import { existsSync, readFileSync, statSync } from 'fs';
import path from 'path';

/** The esbuild bundles are what SCF runs: each must load in a bare `node` and export main_handler. */

const root = path.resolve(__dirname, '../..');
const FUNCTIONS = ['register', 'transport', 'cleanup', 'publish', 'sweep'];
const bundle = (name: string) => path.join(root, 'dist/functions', name, 'index.js');

beforeAll(() => {
  if (!FUNCTIONS.every((name) => existsSync(bundle(name)))) {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], {
      env: { ...process.env, QUIET_BUILD: '1' },
    });
  }
});

/** Runs a snippet in a fresh node with an empty environment, from a directory without node_modules. */
function runIsolated(script: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: '/',
    env: {},
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe.each(FUNCTIONS)('the %s bundle', (name) => {
  it('is self-contained, under 1 MB, and exports main_handler', () => {
    expect(statSync(bundle(name)).size).toBeLessThan(1024 * 1024);
    const result = runIsolated(
      `const m = require(${JSON.stringify(bundle(name))}); console.log(typeof m.main_handler);`,
    );
    expect(result).toMatchObject({ status: 0, stdout: 'function\n' });
  });
});

describe('the COS SDK', () => {
  // The functions speak COS's XML API themselves (code/cos/cos-http.ts, signed by cos-sign.ts): no SDK to load on a
  // cold start. The deploy tool still uses the SDK for the bucket, with its getRetryInfo guarded (scripts/build.mjs).
  it.each(FUNCTIONS)('is not in the %s bundle', (name) => {
    const source = readFileSync(bundle(name), 'utf8');
    expect(source).toContain('q-sign-algorithm=sha1');
    expect(source).not.toMatch(/getAuthorization|cos-nodejs-sdk|CookieJar/);
  });

  it('is in the deploy tool, its retry codes read guarded', () => {
    const deployTool = path.join(root, 'dist/tools/deploy.js');
    if (!existsSync(deployTool)) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')]);
    const source = readFileSync(deployTool, 'utf8');
    expect(source).toContain('let errorCode = err && err.error && err.error.Code;');
    expect(source).not.toContain('let errorCode = err.error.Code;');
  });
});

describe('bundles without configuration', () => {
  it('register refuses the connection and logs which variable is missing', () => {
    const event = { websocket: { action: 'connecting', secConnectionID: 'abc=' } };
    const result = runIsolated(
      `require(${JSON.stringify(bundle('register'))}).main_handler(${JSON.stringify(event)}, {}).then((r) => console.log(JSON.stringify(r)));`,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ errNo: 500, websocket: { secConnectionID: 'abc=' } });
    expect(result.stderr).toContain('Missing environment variable COS_BUCKET');
  });

  it('transport does not throw', () => {
    const event = {
      websocket: { action: 'data recv', secConnectionID: 'abc=', dataType: 'text', data: 'hi' },
    };
    const result = runIsolated(
      `require(${JSON.stringify(bundle('transport'))}).main_handler(${JSON.stringify(event)}, {}).then((r) => console.log(JSON.stringify(r)), () => console.log('threw'));`,
    );
    expect(result.stdout.trim()).toBe('{"errNo":500,"errMsg":"server misconfigured"}');
  });
});

describe('the built bundles on the local stack, each in its own process', () => {
  it('register, chat, publish and clean up exactly as the TypeScript modules do', async () => {
    const { startLocalStack } = await import('../../scripts/local/stack');
    const { connectClient, eventually, ofType } = await import('../helpers/ws-client');
    const { connectProtocols } = await import('../../code/chat/protocol');
    const stack = await startLocalStack({
      port: 0,
      bundlesDir: path.join(root, 'dist/functions'),
      env: { PUBLISH_TOKEN: 'bundle-token' },
    });
    try {
      const alice = await connectClient(stack.wsUrl, connectProtocols({ nick: 'alice', room: 'ops' }));
      const bob = await connectClient(stack.wsUrl, connectProtocols({ nick: 'bob', room: 'ops' }));
      alice.send('from a bundle');
      expect(await bob.next(ofType('message'))).toMatchObject({
        from: 'alice',
        text: 'from a bundle',
        online: 2,
      });
      expect(await alice.next(ofType('ack'))).toMatchObject({ delivered: 1 });
      bob.send({ type: 'join', room: 'ops', since: '0' });
      const history = await bob.next(ofType('history'));
      expect((history.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['from a bundle']);
      const published = await fetch(`${stack.url}publish`, {
        method: 'POST',
        headers: { Authorization: 'Bearer bundle-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({ room: 'ops', text: 'via the publish bundle' }),
      });
      expect(published.status).toBe(200);
      expect(await alice.next(ofType('message'))).toMatchObject({
        text: 'via the publish bundle',
        source: 'api',
      });
      await alice.close();
      await bob.close();
      await eventually(
        () => stack.cos.keys(stack.bucket, 'wschat/room/').length === 0,
        10_000,
        'registry empty',
      );
      expect(stack.cos.keys(stack.bucket, 'wschat/conn/')).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 60_000);
});
