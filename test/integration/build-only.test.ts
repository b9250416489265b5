import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';

/**
 * `npm run cli` runs `scripts/build.mjs --only chat-cli`: one bundle, and none when nothing it was built from
 * changed. Run on a copy of the sources, so the repository's own dist/ (which other suites read) is left alone.
 */

const root = path.resolve(__dirname, '../..');

describe('scripts/build.mjs --only', () => {
  let copy: string;
  const build = (tool = 'chat-cli') =>
    execFileSync(process.execPath, [path.join(copy, 'scripts/build.mjs'), '--only', tool], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, QUIET_BUILD: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const run = (tool: string, ...args: string[]) =>
    execFileSync(process.execPath, [path.join(copy, 'dist/tools', `${tool}.js`), ...args], { cwd: copy });
  const built = () => statSync(path.join(copy, 'dist/tools/chat-cli.js')).mtimeMs;

  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'build-only-'));
    for (const dir of ['code', 'scripts', 'web'])
      cpSync(path.join(root, dir), path.join(copy, dir), { recursive: true });
    cpSync(path.join(root, 'package-lock.json'), path.join(copy, 'package-lock.json'));
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('builds only the named tool, skips it when up to date and rebuilds when one of its inputs changes', () => {
    build();
    // Only the cli: no functions, gateway, web page or other tools.
    expect(() => statSync(path.join(copy, 'dist/functions'))).toThrow();
    expect(() => statSync(path.join(copy, 'dist/tools/start.js'))).toThrow();
    expect(run('chat-cli', '--help').toString()).toMatch(/^Usage: npm run cli -- <ws-url>/);
    const first = built();

    build();
    expect(built()).toBe(first);

    // An input of the bundle (the cli's formatter) edited after the bundle was written: rebuilt.
    const later = new Date(first + 5_000);
    utimesSync(path.join(copy, 'scripts/cli/format.ts'), later, later);
    build();
    expect(built()).toBeGreaterThan(first);
  });

  it('refuses a tool it does not know', () => {
    expect(() => build('nope')).toThrow(/no tool "nope"/);
  });
});
