import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import path from 'path';
import { connectProtocols } from '../../code/chat/protocol';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { connectClient, ofType, type TestClient } from '../helpers/ws-client';

/** `wschat --sse`: the built terminal client over server-sent events and POSTs, chatting with a WebSocket. */

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'chat-cli.js');

function build(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['scripts/build.mjs'],
      { cwd: ROOT, env: { ...process.env, QUIET_BUILD: '1' } },
      (error, _o, stderr) => (error ? reject(new Error(`build failed: ${stderr}`)) : resolve()),
    ),
  );
}

/** Resolves with the first line of `stream` that matches, as it arrives. */
function lineMatching(stream: NodeJS.ReadableStream, lines: string[], pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = lines.find((line) => pattern.test(line));
      if (found === undefined) return false;
      stream.off('data', onData);
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    const onData = () => void check();
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`no line matching ${pattern}; got:\n${lines.join('\n')}`));
    }, 10_000);
    stream.on('data', onData);
    check();
  });
}

function collect(stream: NodeJS.ReadableStream): string[] {
  const lines: string[] = [];
  let partial = '';
  stream.setEncoding('utf8');
  // Registered first, so the lines are split before any lineMatching() listener looks.
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return lines;
}

let stack: LocalStack;
let child: ChildProcessWithoutNullStreams | undefined;
let bob: TestClient | undefined;

beforeAll(async () => {
  [stack] = await Promise.all([startLocalStack({ port: 0 }), build()]);
});
afterAll(async () => {
  child?.kill();
  await bob?.close();
  await stack.close();
});

it('chats both ways with a WebSocket client, and leaves cleanly at end of input', async () => {
  bob = await connectClient(stack.wsUrl, connectProtocols({ nick: 'Bob', room: 'cli-sse' }));
  bob.send({ type: 'join', room: 'cli-sse', ref: 'j' });
  await bob.next(ofType('ack', { ref: 'j' }));

  child = spawn(process.execPath, [CLI, stack.wsUrl, '--sse', '--nick', 'Tess', '--room', 'cli-sse'], {
    cwd: ROOT,
    // No identity key file: the client must not write into the home of whoever runs the tests.
    env: { ...process.env, TZ: 'UTC', WSCHAT_IDENTITY_FILE: '' },
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
  await lineMatching(child.stderr, err, /connected to http:.*\/events \(server-sent events\)/);
  await bob.next(ofType('presence', { event: 'join', nick: 'Tess' }));

  child.stdin.write('hello from a terminal without WebSockets\n');
  await bob.next(ofType('message', { text: 'hello from a terminal without WebSockets', from: 'Tess' }));

  bob.send({ type: 'message', text: 'hello back', ref: 'b' });
  await lineMatching(child.stdout, out, /Bob#[0-9a-f]{4}: hello back$/);

  child.stdin.end();
  expect(await exited).toBe(0);
  await bob.next(ofType('presence', { event: 'leave', nick: 'Tess' }));
});
