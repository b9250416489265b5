import { spawn, type ChildProcess } from 'child_process';
import path from 'path';
import type { ScfFunction } from './local-invoker';

/**
 * Runs a built SCF bundle (dist/functions/<name>/index.js) in its own Node process, as an SCF container would:
 * its own memory, its own environment, configuration read from process.env at the first invocation, and
 * `main_handler(event, context)` called once per event. Events and results cross the process boundary as JSON,
 * like SCF's invoke API.
 */
export interface BundleContainer {
  invoke: ScfFunction;
  close(): Promise<void>;
}

const RUNNER = `
const bundle = require(process.argv[1]);
const handler = bundle.main_handler || bundle.handler; // SCF's entry name, or Lambda's
process.on('message', ({ id, event }) => {
  Promise.resolve()
    .then(() => handler(event, { callbackWaitsForEmptyEventLoop: true }))
    .then(
      (result) => process.send({ id, result }),
      (error) => process.send({ id, error: String((error && error.stack) || error) }),
    );
});
`;

export function startBundleContainer(
  bundle: string,
  env: Record<string, string>,
  /** Receives the bundle's log lines (stdout and stderr), as SCF would ship them to its log. */
  log: (line: string) => void = () => undefined,
): BundleContainer {
  const child: ChildProcess = spawn(process.execPath, ['-e', RUNNER, path.resolve(bundle)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const name = path.basename(path.dirname(bundle));
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) log(`${name.padEnd(9)} ${line}`);
    });
  }
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const call = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) call?.reject(new Error(message.error));
    else call?.resolve(message.result);
  });
  child.on('exit', () => {
    for (const call of pending.values()) call.reject(new Error(`${bundle} exited`));
    pending.clear();
  });
  // A send to a container that already exited (the stack closing while the gateway still cleans up) fails that
  // call, as an invocation of a deleted function would; it must not become an unhandled 'error' event.
  child.on('error', (error) => log(`${name.padEnd(9)} ${error.message}`));
  return {
    invoke: (event) =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`${bundle} is not running`));
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, event }, (error) => {
          if (!error) return;
          pending.delete(id);
          reject(error);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
