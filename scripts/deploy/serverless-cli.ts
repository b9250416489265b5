import { spawn } from 'child_process';

/**
 * Runs the Serverless CLI for one instance folder and captures what it prints.
 *
 * The CLI decorates its output with colours and cursor movements (serverless-cloud-framework src/libs/cli.js uses
 * chalk and ansi-escapes); those are stripped, both from the echo and from the captured text that the outputs are
 * parsed from.
 */

export interface CliRun {
  /** Exit code; null when the process could not start or was killed. */
  code: number | null;
  /** stdout and stderr, without ANSI sequences. */
  output: string;
  /** Set when the command could not be started (ENOENT: not installed / not on PATH). */
  spawnError?: NodeJS.ErrnoException;
}

// CSI sequences (colours, cursor moves, erase) and OSC sequences: they start with ESC by definition.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function runCli(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    echo: (line: string) => void;
    stdin?: 'inherit' | 'ignore';
  },
): Promise<CliRun> {
  return new Promise((resolve) => {
    let output = '';
    let pending = '';
    const onData = (chunk: Buffer) => {
      const textChunk = stripAnsi(chunk.toString('utf8'));
      output += textChunk;
      pending += textChunk;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.echo(line);
    };
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, output, spawnError: error }));
    child.on('close', (code) => {
      if (pending.trim()) options.echo(pending);
      resolve({ code, output });
    });
  });
}

/**
 * CLIs that start but cannot deploy Tencent components. They may even exit 0, so their words are the signal:
 * late serverless v3 stubs (serverless/serverless bin/serverless.js; serverless/serverless#11658) and v4
 * ("only supports "aws" as a Provider", e.g. scaleway/serverless-examples#102).
 */
const UNSUPPORTED: { pattern: RegExp; why: string }[] = [
  {
    pattern: /no longer supports Serverless Tencent|Serverless Components CLI (v1 )?is no longer bundled/i,
    why: 'this is serverless v3.x, which no longer deploys Tencent components',
  },
  {
    pattern: /only supports "?aws"? as a Provider/i,
    why: 'this is serverless v4, which deploys to AWS only',
  },
];

export function unsupportedCli(output: string): string | undefined {
  return UNSUPPORTED.find((u) => u.pattern.test(output))?.why;
}

/**
 * The instance outputs the CLI prints after a deploy (`cli.logOutputs`, rendered by prettyoutput as `key: value`
 * lines, nested by indentation). There is no JSON mode (serverless-cloud-framework src/commands/info.js has no
 * --json), so this reads the lines and keeps every value seen for each key.
 */
export function parseOutputs(output: string): Record<string, string[]> {
  const values: Record<string, string[]> = {};
  for (const line of stripAnsi(output).split(/\r?\n/)) {
    const match = /^\s*(?:-\s+)?([A-Za-z][A-Za-z0-9_]*):\s+(\S.*?)\s*$/.exec(line);
    if (!match) continue;
    (values[match[1]!] ??= []).push(match[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  return values;
}

/** The last few meaningful lines of a failed run, to quote in the error. */
export function tail(output: string, lines = 8): string {
  return output
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}
