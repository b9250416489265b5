import { spawn } from 'child_process';
import { existsSync } from 'fs';
import path from 'path';
import { shown, type DeployContext } from '../context';
import { DeployError } from '../errors';
import type { FunctionSpec } from '../stack';
import type { Phase } from './phase';

// Phase 1: build and check the bundles.
interface Run {
  code: number | null;
  output: string;
  spawnError?: Error;
}

function runCommand(
  ctx: DeployContext,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { cwd: ctx.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) ctx.print(`      ${line}`);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (spawnError) => resolve({ code: null, output, spawnError }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const tail = (text: string) => text.trim().split('\n').slice(-15).join('\n');

/** Loads a bundle in a fresh `node` with no configuration at all: loading must not need any (config is lazy). */
const LOAD_CHECK =
  "const m = require(process.argv[1]); const f = m[process.argv[2]]; if (typeof f !== 'function') " +
  "{ console.error('exports no function ' + process.argv[2]); process.exit(3); }";

function bundleOf(fn: FunctionSpec): { file: string; exported: string } {
  const dot = fn.handler.lastIndexOf('.');
  return {
    file: path.join(fn.codeDir, `${fn.handler.slice(0, dot)}.js`),
    exported: fn.handler.slice(dot + 1),
  };
}

export const build: Phase = {
  number: 1,
  title: 'build and check the bundles',
  plan(ctx, stack) {
    const lines = ['$ npm run build'];
    if (!ctx.options.skipTests) {
      for (const fn of stack.functions) {
        const { file, exported } = bundleOf(fn);
        lines.push(`$ node -e <load ${shown(ctx, file)}, expect export ${exported}>   (empty environment)`);
      }
    }
    lines.push(`$ node --check ${shown(ctx, stack.gateway.bundle)}`);
    return lines;
  },
  async run(ctx, stack) {
    ctx.print('    $ npm run build');
    const built = await runCommand(ctx, 'npm', ['run', 'build'], ctx.env);
    if (built.code !== 0) {
      throw new DeployError(
        `npm run build ${built.spawnError ? `could not start: ${built.spawnError.message}` : `exited with code ${built.code}`}`,
        'fix the build errors printed above, then run npm run deploy again',
        1,
      );
    }
    if (!ctx.options.skipTests) {
      for (const fn of stack.functions) {
        const { file, exported } = bundleOf(fn);
        if (!existsSync(file)) {
          throw new DeployError(
            `${shown(ctx, file)} is missing after the build (function ${fn.key}, handler ${fn.handler})`,
            'make functions.<name>.handler in serverless.yml match what scripts/build.mjs writes',
            1,
          );
        }
        const checked = await runCommand(ctx, process.execPath, ['-e', LOAD_CHECK, file, exported], {
          PATH: ctx.env.PATH,
        });
        if (checked.code !== 0) {
          throw new DeployError(
            `${shown(ctx, file)} does not load, or does not export ${exported}:\n${tail(checked.output)}`,
            'a bundle must load without configuration (read the environment lazily) and export its handler',
            1,
          );
        }
        ctx.print(`    ok ${shown(ctx, file)} loads and exports ${exported}`);
      }
    }
    const gateway = stack.gateway.bundle;
    if (!existsSync(gateway)) {
      throw new DeployError(
        `the gateway bundle ${shown(ctx, gateway)} is missing after the build`,
        'scripts/build.mjs must bundle code/gateway to dist/gateway/index.js (or set GATEWAY_BUNDLE), then run again',
        1,
      );
    }
    const syntax = await runCommand(ctx, process.execPath, ['--check', gateway], { PATH: ctx.env.PATH });
    if (syntax.code !== 0) {
      throw new DeployError(
        `${shown(ctx, gateway)} is not valid JavaScript:\n${tail(syntax.output)}`,
        'rebuild it',
        1,
      );
    }
    ctx.print(`    ok ${shown(ctx, gateway)} parses`);
  },
};
