import { readFileSync } from 'fs';
import path from 'path';
import { createCloudApi, readCredentials } from './cloud-api';
import { DeployError, errorMessage } from './errors';
import {
  loadState,
  PHASES,
  removeStack,
  type DeployContext,
  type DeployOptions,
  type DeployState,
} from './phases';
import { loadStack, PUSH_URL_PLACEHOLDER, validateStack, type Stack } from './stack';

/**
 * `npm run deploy` (scripts/deploy-two-phase compiles this file to dist/tools/deploy.js and runs it).
 * docs/deploy.md is the manual; `npm run deploy -- --help` the summary.
 */

const USAGE = `Usage: npm run deploy -- [options]

Deploys serverless.yml to Tencent Cloud in phases:
  1 build and check the bundles      4 set PUSH_URL on every function (deploy phase two)
  2 deploy bucket, functions, gateway (deploy phase one)
  3 find the push URL                5 write dist/web/config.json and print the URLs
                                     6 smoke check (with --smoke)

Options:
  --dry-run             print every command and API call; run none of them
  --from-phase N        resume at phase N (1-6) after fixing what failed
  --skip-tests          do not load-check the bundles in phase 1
  --smoke               run phase 6: two clients, one message, on the deployed WebSocket URL
  --smoke-url URL       check this WebSocket URL instead (e.g. a custom domain, or a local stack)
  --smoke-timeout SEC   how long the smoke check waits (default 20)
  --remove              remove every instance (gateway, functions, bucket) with the CLI, and exit
  --help                this text

Environment: TENCENT_SECRET_ID, TENCENT_SECRET_KEY (or TENCENTCLOUD_SECRET_ID/KEY), optional TENCENT_TOKEN;
COS_BUCKET (name-APPID); optional STAGE, REGION, SCF_ROLE, AUTH_SECRET, PUBLISH_TOKEN; SLS_CLI (default scf).
`;

class UsageError extends Error {}

export function parseArgs(argv: string[]): DeployOptions & { remove: boolean; help: boolean } {
  const options = {
    dryRun: false,
    skipTests: false,
    fromPhase: 1,
    smoke: false,
    smokeUrl: undefined as string | undefined,
    smokeTimeoutMs: 20_000,
    remove: false,
    help: false,
  };
  const value = (i: number, flag: string): string => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const take = () => (inline !== undefined ? inline : value(i++, flag!));
    switch (flag) {
      case '--dry-run':
        options.dryRun = true;
        break;
      case '--skip-tests':
        options.skipTests = true;
        break;
      case '--smoke':
        options.smoke = true;
        break;
      case '--remove':
        options.remove = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--from-phase': {
        const n = Number(take());
        if (!Number.isInteger(n) || n < 1 || n > PHASES.length) {
          throw new UsageError(`--from-phase must be 1 to ${PHASES.length}`);
        }
        options.fromPhase = n;
        break;
      }
      case '--smoke-url':
        options.smokeUrl = take();
        if (!/^wss?:\/\//.test(options.smokeUrl))
          throw new UsageError('--smoke-url must be a ws:// or wss:// URL');
        options.smoke = true;
        break;
      case '--smoke-timeout': {
        const seconds = Number(take());
        if (!Number.isFinite(seconds) || seconds <= 0)
          throw new UsageError('--smoke-timeout must be seconds > 0');
        options.smokeTimeoutMs = seconds * 1000;
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  // Phase 6 is the smoke check: asking to resume there means asking for it.
  if (options.fromPhase === 6) options.smoke = true;
  return options;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`deploy: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { remove, help: _help, ...options } = parsed;
  const root = path.resolve(__dirname, '..', '..');
  const ctx: DeployContext = {
    root,
    outDir: path.resolve(root, env.DEPLOY_OUT_DIR?.trim() || 'dist'),
    env,
    options,
    cli: env.SLS_CLI?.trim() || 'scf',
    print: (line) => console.log(line),
    pollIntervalMs: positiveNumber(env, 'DEPLOY_POLL_INTERVAL_MS', 2000),
    waitLimitMs: positiveNumber(env, 'DEPLOY_WAIT_SECONDS', 120) * 1000,
  };
  const lastPhase = options.smoke ? 6 : 5;
  let current: number | undefined;
  try {
    const source = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    const first = loadStack(source, { root, env, pushUrl: PUSH_URL_PLACEHOLDER });
    const state: DeployState = loadState(ctx, first);
    // On a re-run, phase 2 deploys the functions with the push URL the last run found rather than the
    // placeholder: the scf component sends the whole variable list on every deploy, and the placeholder would
    // cut the chat off until phase 4 restores it.
    const stack: Stack = state.pushUrl ? loadStack(source, { root, env, pushUrl: state.pushUrl }) : first;
    validateStack(stack);

    // Credentials are needed by phases 2 to 4 only; without them a real run stops before doing anything.
    const needsCloud = remove || (options.fromPhase <= 4 && lastPhase >= 2);
    let missingCredentials: string | undefined;
    try {
      ctx.credentials = needsCloud ? readCredentials(env) : undefined;
    } catch (error) {
      if (!options.dryRun || !(error instanceof DeployError)) throw error;
      missingCredentials = error.message;
    }
    if (ctx.credentials) {
      ctx.api = createCloudApi({
        credentials: ctx.credentials,
        region: stack.region,
        endpoint: env.TENCENTCLOUD_API_ENDPOINT?.trim() || undefined,
      });
    }

    const mode = options.dryRun ? ' (dry run: nothing is executed)' : '';
    ctx.print(
      `deploy ${stack.app}, stage ${stack.stage}, region ${stack.region}, CLI ${ctx.cli}${mode}` +
        (ctx.credentials ? `; credentials from ${ctx.credentials.source}` : ''),
    );
    if (missingCredentials) ctx.print(`(dry run) ${missingCredentials}: a real run would stop here`);
    if (remove) {
      ctx.print('==> remove every instance, gateway first');
      await removeStack(ctx, stack);
      ctx.print(options.dryRun ? 'dry run finished: nothing was removed' : 'removed');
      return 0;
    }
    for (const phase of PHASES.filter((p) => p.number >= options.fromPhase && p.number <= lastPhase)) {
      current = phase.number;
      ctx.print(`==> Phase ${phase.number}/${lastPhase}: ${phase.title}`);
      if (options.dryRun) {
        for (const line of phase.plan(ctx, stack, state)) ctx.print(`    ${line}`);
      } else {
        await phase.run(ctx, stack, state);
      }
    }
    ctx.print(options.dryRun ? 'dry run finished: nothing was executed' : 'deploy finished');
    return 0;
  } catch (error) {
    const known = error instanceof DeployError ? error : undefined;
    const phase = known ? known.phase : current;
    console.error('');
    console.error(
      phase === undefined ? `✖ ${errorMessage(error)}` : `✖ Phase ${phase} failed: ${errorMessage(error)}`,
    );
    if (known) console.error(`  Fix: ${known.fix}`);
    else if (error instanceof Error && error.stack) console.error(error.stack);
    if (phase !== undefined) {
      const smoke = phase === 6 ? '' : options.smoke ? ' --smoke' : '';
      console.error(`  Resume: npm run deploy -- --from-phase ${phase}${smoke}`);
    }
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
