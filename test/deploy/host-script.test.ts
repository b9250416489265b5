import { execFileSync, spawnSync } from 'child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import os from 'os';
import path from 'path';
import { sha256 } from '../../scripts/deploy/archive';
import { envFile, installScript, releaseArchive } from '../../scripts/deploy/gateway';
import { loadStack, type Stack } from '../../scripts/deploy/stack';
import { ROOT } from './harness';

/**
 * The install script the gateway host runs (UserData on first boot, TAT on updates), run here by bash with `curl`,
 * `systemctl`, `id`, `useradd`, `chown` and `journalctl` stubbed on PATH and every path under a temporary folder.
 */

let dir: string;
let stubs: string;
let host: string;
let log: string;

function stack(extra: Record<string, string> = {}): Stack {
  const gatewayBundle = path.join(dir, 'gateway.js');
  writeFileSync(gatewayBundle, "console.log('gateway');\n");
  return loadStack(readFileSync(path.join(ROOT, 'scripts/deploy/tencent-stack.yml'), 'utf8'), {
    root: ROOT,
    env: { COS_BUCKET: 'wschat-1250000000', GATEWAY_BUNDLE: gatewayBundle, ...extra },
  });
}

function stub(name: string, body: string): void {
  const file = path.join(stubs, name);
  writeFileSync(file, `#!/bin/bash\necho "${name} $*" >> "${log}"\n${body}\n`);
  chmodSync(file, 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-host-'));
  stubs = path.join(dir, 'bin');
  host = path.join(dir, 'host');
  log = path.join(dir, 'calls.log');
  mkdirSync(stubs);
  mkdirSync(path.join(dir, 'files'));
  mkdirSync(path.join(dir, 'units'));
  // curl URL -o FILE copies files/<last path segment of URL>; /readyz answers when files/ready exists.
  stub(
    'curl',
    `url=""; out=""; while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; http*) url="$1";; esac; shift; done
case "$url" in *readyz) [ -f "${dir}/files/ready" ]; exit $?;; esac
name="\${url##*/}"; name="\${name%%\\?*}"; cp "${dir}/files/$name" "$out"`,
  );
  for (const name of ['systemctl', 'useradd', 'chown', 'journalctl']) stub(name, 'exit 0');
  stub('id', 'exit 1');
  stub('sleep', 'exit 0');
  // A Node.js tarball as nodejs.org lays it out: one top folder, bin/node inside.
  mkdirSync(path.join(dir, 'node-v20.19.5-linux-x64', 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'node-v20.19.5-linux-x64', 'bin', 'node'), '#!/bin/sh\n');
  chmodSync(path.join(dir, 'node-v20.19.5-linux-x64', 'bin', 'node'), 0o755);
  execFileSync('tar', ['-cJf', path.join(dir, 'files', 'node.tar.xz'), '-C', dir, 'node-v20.19.5-linux-x64']);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function install(s: Stack, release: Buffer, env: string) {
  writeFileSync(path.join(dir, 'files', 'release.tgz'), release);
  writeFileSync(path.join(dir, 'files', 'gateway.env'), env);
  const script = installScript(
    s,
    {
      release: 'https://bucket/deploy/dev/gateway/release.tgz?q-sign=x&y=1',
      env: 'https://bucket/gateway.env?q=1',
    },
    { dir: host, unitDir: path.join(dir, 'units') },
  );
  const file = path.join(dir, 'install.sh');
  writeFileSync(file, script);
  return spawnSync('bash', ['--norc', '--noprofile', file], {
    env: { PATH: `${stubs}:${process.env.PATH ?? ''}`, HOME: dir },
    encoding: 'utf8',
  });
}

const calls = () => readFileSync(log, 'utf8');

describe('the gateway host install script', () => {
  it('installs Node, the release and the environment, writes the unit and restarts the service', () => {
    const s = stack({ GATEWAY_NODE_SHA256: sha256(readFileSync(path.join(dir, 'files', 'node.tar.xz'))) });
    s.gateway.nodeUrl = 'https://mirrors.example/node.tar.xz';
    writeFileSync(path.join(dir, 'files', 'ready'), '');
    const env = envFile({ GATEWAY_SECRET: 'a'.repeat(64), GATEWAY_PUSH_HOST: '10.8.1.10' });

    const run = install(s, releaseArchive(ROOT, s, true), env);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('wschat gateway ready');
    expect(existsSync(path.join(host, 'node', 'bin', 'node'))).toBe(true);
    expect(readFileSync(path.join(host, 'release', 'gateway', 'index.js'), 'utf8')).toBe(
      "console.log('gateway');\n",
    );
    expect(JSON.parse(readFileSync(path.join(host, 'release', 'web', 'config.json'), 'utf8'))).toMatchObject({
      wsUrl: '/ws',
    });
    expect(readFileSync(path.join(host, 'gateway.env'), 'utf8')).toBe(env);
    expect(statSync(path.join(host, 'gateway.env')).mode & 0o777).toBe(0o600);
    const unit = readFileSync(path.join(dir, 'units', 'wschat-gateway.service'), 'utf8');
    expect(unit).toContain(`EnvironmentFile=${host}/gateway.env`);
    expect(unit).toContain(`ExecStart=${host}/node/bin/node ${host}/release/gateway/index.js`);
    expect(unit).toContain('User=wschat');
    expect(calls()).toContain('useradd --system');
    expect(calls()).toContain(
      'systemctl daemon-reload\nsystemctl enable wschat-gateway\nsystemctl restart wschat-gateway',
    );
  });

  it('keeps Node on an update, keeps the previous release, and fails when the gateway is not ready', () => {
    const s = stack();
    s.gateway.nodeUrl = 'https://mirrors.example/node.tar.xz';
    writeFileSync(path.join(dir, 'files', 'ready'), '');
    expect(install(s, releaseArchive(ROOT, s, false), envFile({ A: '1' })).status).toBe(0);
    writeFileSync(log, '');
    rmSync(path.join(dir, 'files', 'ready'));

    const run = install(s, releaseArchive(ROOT, s, false), envFile({ A: '2' }));

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('wschat gateway did not become ready');
    expect(calls()).not.toContain('node.tar.xz');
    expect(existsSync(path.join(host, 'release.old', 'gateway', 'index.js'))).toBe(true);
    expect(readFileSync(path.join(host, 'gateway.env'), 'utf8')).toBe('A="2"\n');
    expect(calls()).toContain('journalctl -u wschat-gateway');
  });

  it('refuses a Node download whose SHA-256 does not match', () => {
    const s = stack({ GATEWAY_NODE_SHA256: '0'.repeat(64) });
    s.gateway.nodeUrl = 'https://mirrors.example/node.tar.xz';

    const run = install(s, releaseArchive(ROOT, s, false), envFile({}));

    expect(run.status).not.toBe(0);
    expect(existsSync(path.join(host, 'node', 'bin', 'node'))).toBe(false);
    expect(existsSync(path.join(host, 'release'))).toBe(false);
  });
});
