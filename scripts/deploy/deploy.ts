import { readFileSync } from 'fs';
import path from 'path';
import { createCloudApi, readCredentials } from './cloud-api';
import { type DeployContext, type DeployOptions } from './context';
import { createBucketApi } from './cos-api';
import { DeployError, errorMessage } from './errors';
import { PHASES } from './phases';
import { removeStack } from './remove';
import { loadStack } from './stack';

/**
 * `npm run deploy` (scripts/deploy-two-phase compiles this file to dist/tools/deploy.js and runs it).
 * docs/deploy.md is the manual; `npm run deploy -- --help` the summary.
 */

const USAGE = `Usage: npm run deploy -- [options]

Deploys serverless.yml to Tencent Cloud through the Cloud API, in phases:
  1 build and check the bundles          5 push URL + secret into the functions, function URLs
  2 the COS bucket                          into the gateway (deploy phase two)
  3 role, network, the five functions    6 write dist/web/config.json, print the URLs
  4 the gateway host (deploy phase one)  7 smoke check through the gateway (with --smoke)

Options:
  --dry-run             print every Cloud API call and host command; call and run none of them
  --from-phase N        resume at phase N (1-7) after fixing what failed
  --skip-tests          do not load-check the function bundles in phase 1
  --smoke               run phase 7: two clients, one message, through the deployed gateway
  --smoke-url URL       check this WebSocket URL instead (e.g. behind your TLS domain)
  --smoke-timeout SEC   how long the smoke check waits (default 20)
  --remove              remove what the deploy created, say what is kept, and exit
  --delete-bucket       with --remove: also delete the chat data under keyPrefix and the bucket
  --help                this text

Environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY (optional TENCENTCLOUD_SESSION_TOKEN);
COS_BUCKET (name-APPID); optional STAGE, REGION, ZONE, SCF_ROLE, AUTH_SECRET, PUBLISH_TOKEN, GATEWAY_SECRET,
GATEWAY_INSTANCE_TYPE, GATEWAY_IMAGE_ID, VPC_ID + SUBNET_ID (docs/deploy.md).
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
    deleteBucket: false,
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
      case '--delete-bucket':
        options.deleteBucket = true;
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
  // The last phase is the smoke check: asking to resume there means asking for it.
  if (options.fromPhase === PHASES.length) options.smoke = true;
  if (options.deleteBucket && !options.remove) {
    throw new UsageError('--delete-bucket only goes with --remove: a deploy never empties the bucket');
  }
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
    print: (line) => console.log(line),
    pollIntervalMs: positiveNumber(env, 'DEPLOY_POLL_INTERVAL_MS', 3000),
    // A first boot downloads Node.js and the release before /readyz answers: minutes, not seconds.
    waitLimitMs: positiveNumber(env, 'DEPLOY_WAIT_SECONDS', 900) * 1000,
    phase: 0,
  };
  const lastPhase = options.smoke ? PHASES.length : PHASES.length - 1;
  let current: number | undefined;
  try {
    const stack = loadStack(readFileSync(path.join(root, 'serverless.yml'), 'utf8'), { root, env });

    // Phase 1 needs no cloud; a run that starts later, or a removal, does.
    const needsCloud = remove || lastPhase >= 2;
    let missingCredentials: string | undefined;
    try {
      ctx.credentials = needsCloud ? readCredentials(env) : undefined;
    } catch (error) {
      if (!options.dryRun || !(error instanceof DeployError)) throw error;
      missingCredentials = error.message;
    }
    if (ctx.credentials && !options.dryRun) {
      ctx.api = createCloudApi({
        credentials: ctx.credentials,
        region: stack.region,
        endpoint: env.TENCENTCLOUD_API_ENDPOINT?.trim() || undefined,
      });
      ctx.bucket = createBucketApi({
        credentials: ctx.credentials,
        bucket: stack.bucket.name,
        region: stack.region,
        endpoint: env.DEPLOY_COS_ENDPOINT?.trim() || undefined,
      });
    }

    const mode = options.dryRun ? ' (dry run: nothing is called or run)' : '';
    ctx.print(
      `deploy ${stack.app}, stage ${stack.stage}, region ${stack.region}${mode}` +
        (ctx.credentials ? `; credentials from ${ctx.credentials.source}` : ''),
    );
    if (missingCredentials) ctx.print(`(dry run) ${missingCredentials}: a real run would stop here`);
    if (remove) {
      ctx.print(`==> remove the stack ${stack.tag}`);
      await removeStack(ctx, stack);
      ctx.print(options.dryRun ? 'dry run finished: nothing was removed' : 'removed');
      return 0;
    }
    for (const phase of PHASES.filter((p) => p.number >= options.fromPhase && p.number <= lastPhase)) {
      current = phase.number;
      ctx.phase = phase.number;
      ctx.print(`==> Phase ${phase.number}/${lastPhase}: ${phase.title}`);
      if (options.dryRun) {
        for (const line of phase.plan(ctx, stack)) ctx.print(`    ${line}`);
      } else {
        await phase.run(ctx, stack);
      }
    }
    ctx.print(options.dryRun ? 'dry run finished: nothing was called or run' : 'deploy finished');
    return 0;
  } catch (error) {
    const known = error instanceof DeployError ? error : undefined;
    const phase = known ? known.phase || undefined : current;
    console.error('');
    console.error(
      phase === undefined ? `✖ ${errorMessage(error)}` : `✖ Phase ${phase} failed: ${errorMessage(error)}`,
    );
    if (known) console.error(`  Fix: ${known.fix}`);
    else if (error instanceof Error && error.stack) console.error(error.stack);
    if (remove) {
      console.error(
        '  Resume: npm run deploy -- --remove' + (options.deleteBucket ? ' --delete-bucket' : ''),
      );
    } else if (phase !== undefined) {
      const smoke = phase === PHASES.length ? '' : options.smoke ? ' --smoke' : '';
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
