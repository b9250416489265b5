import { spawn, type ChildProcess } from 'child_process';
import net from 'net';
import path from 'path';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { freePorts } from '../helpers/ports';
import { connectClient, ofType } from '../helpers/ws-client';
import { connectProtocols } from '../../code/chat/protocol';

/** `npm start` as a user runs it: a child process on a free port, a real WebSocket, then Ctrl-C. */

const root = path.resolve(__dirname, '../..');

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

// `npm run start:aws` is the same stack in AWS's shape (API Gateway events, @connections, S3): the same page and
// clients work against it unchanged.
it.each([
  ['npm start', ['start', '--silent'], /Push URL .*\/push/],
  [
    'npm run start:aws',
    ['run', 'start:aws', '--silent'],
    /@connections .*\/@connections\/\{id\}[\s\S]*Local S3/,
  ],
])(
  '%s serves the page, chats over WebSocket and stops cleanly on SIGINT',
  async (_name, args, shape) => {
    const [port] = await freePorts(1);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'npm-start-'));
    const child = spawn('npm', args, {
      cwd: root,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the signal reaches node under npm
    });
    try {
      const banner = await waitForOutput(child, /Ctrl-C to stop/, 60_000);
      expect(banner).toContain(`http://127.0.0.1:${port}/`);
      expect(banner).toMatch(shape);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');

      // Protocol clients (JSON envelopes); plain ones read text, see plain-identity-members.test.ts.
      const a = await connectClient(`ws://127.0.0.1:${port}/ws`, connectProtocols({}));
      const b = await connectClient(`ws://127.0.0.1:${port}/ws`, connectProtocols({}));
      a.send('hello over npm start');
      expect(await b.next(ofType('message'))).toMatchObject({ text: 'hello over npm start' });
      await a.close();
      await b.close();

      const exited = new Promise<string>((resolve) =>
        child.on('exit', (code, signal) => resolve(`${code}/${signal}`)),
      );
      const stopping = waitForOutput(child, /stopping/, 10_000);
      process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C in a terminal does: the whole foreground group
      await stopping;
      // The server exits 0; npm itself then re-raises the SIGINT it received, as it does for any script.
      expect(['0/null', 'null/SIGINT']).toContain(await exited);
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow(); // the port is released
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
  90_000,
);

describe('npm start as a newcomer meets it', () => {
  const start = (env: Record<string, string>) =>
    spawn(process.execPath, [path.join(root, 'dist/tools/start.js')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = start(env);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code) => resolve({ code, output }));
    });

  it('says in one line that a busy port is busy', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const { code, output } = await run({
        PORT: String(port),
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'busy-')),
      });
      expect(code).toBe(1);
      expect(output.trim()).toBe(`Port ${port} is in use: set PORT to another port (PORT=3001 npm start).`);
    } finally {
      busy.close();
    }
  });

  it('names PORT when it is not a port', async () => {
    const { code, output } = await run({ PORT: 'abc' });
    expect(code).toBe(2);
    expect(output).toContain('PORT must be a port number');
  });

  it('reads .env (ENV_FILE points at one), and the shell still wins', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dotenv-'));
    const file = path.join(dir, '.env');
    const [port] = await freePorts(1);
    writeFileSync(file, `PUBLISH_TOKEN=from-dot-env\nPORT=1\nDATA_DIR=${dir}\n`);
    const child = start({ ENV_FILE: file, PORT: String(port) });
    try {
      const banner = await waitForOutput(child, /Ctrl-C to stop/, 30_000);
      expect(banner).toContain(`read from`);
      const answer = await fetch(`http://127.0.0.1:${port}/publish`, {
        method: 'POST',
        headers: { Authorization: 'Bearer from-dot-env', 'Content-Type': 'application/json' },
        body: JSON.stringify({ room: 'lobby', text: 'configured by .env' }),
      });
      expect(answer.status).toBe(200);
      const head = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
