import { execFileSync, spawnSync } from 'child_process';
import { existsSync, statSync } from 'fs';
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
