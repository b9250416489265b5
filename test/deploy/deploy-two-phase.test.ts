import { existsSync, readdirSync, readFileSync, rmSync } from 'fs';
import path from 'path';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { startFakeCloud, type FakeCloud } from './fake-cloud-api';
import {
  deployEnv,
  ensureBundles,
  FUNCTION_NAMES,
  KEYS,
  makeFakeBin,
  phaseHeaders,
  removeFakeCli,
  runDeploy,
  seedDeployedStack,
  toolRuns,
  type FakeBin,
} from './harness';

/**
 * Runs the real `scripts/deploy-two-phase` against a fake Serverless CLI and fake npm first on PATH and an in-process
 * fake of the Tencent Cloud API (reached through TENCENTCLOUD_API_ENDPOINT). Each test gets fresh fakes.
 */

const STAGE_FUNCTIONS = FUNCTION_NAMES.map((n) => `wschat-dev-${n}`);
const DEPLOY_ORDER = ['cos', ...FUNCTION_NAMES, 'apigw'];

let cloud: FakeCloud;
let bin: FakeBin;

beforeAll(async () => {
  await ensureBundles();
});

afterAll(() => {
  removeFakeCli();
});

beforeEach(async () => {
  cloud = await startFakeCloud(KEYS);
  bin = makeFakeBin();
});

afterEach(async () => {
  await cloud.close();
  rmSync(bin.dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string | undefined> = {}) =>
  deployEnv(bin, cloud.url, cloud.controlUrl, extra);
const variables = (fn: string) =>
  Object.fromEntries(cloud.functions.get(fn)!.Environment.Variables.map((v) => [v.Key, v.Value]));
const updates = () => cloud.requests.filter((r) => r.action === 'UpdateFunctionConfiguration');
const gatewayOfFake = () => cloud.services.find((s) => s.ServiceName === 'wschat_dev')!;
const pushUrlOfFake = () => gatewayOfFake().apis.find((a) => a.Protocol === 'WEBSOCKET')!.InternalDomain;

describe('npm run deploy', () => {
  it('runs the phases in order and puts the discovered push URL into every function, merged', async () => {
    const run = await runDeploy([], env());

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(phaseHeaders(run.stdout)).toEqual([1, 2, 3, 4, 5]);
    // One timeline across the fake tools and the fake API: build, bucket, functions, gateway, lookups, updates.
    const tools = cloud.timeline.filter((e) => !e.startsWith('api '));
    expect(tools).toEqual(['npm run build', ...DEPLOY_ORDER.map((n) => `scf deploy ${n}`)]);
    const lastTool = cloud.timeline.indexOf('scf deploy apigw');
    const firstApi = cloud.timeline.findIndex((e) => e.startsWith('api '));
    expect(firstApi).toBeGreaterThan(lastTool);
    // The CLI printed serviceId and subDomain, so the lookup starts from the service it just deployed.
    expect(cloud.requests.map((r) => r.action).slice(0, 3)).toEqual([
      'DescribeServiceEnvironmentList',
      'DescribeApisStatus',
      'DescribeApi',
    ]);
    expect(cloud.rejected).toEqual([]);
    // Phase 1 really loaded every bundle.
    for (const name of FUNCTION_NAMES) {
      expect(run.stdout).toContain(`ok dist/functions/${name}/index.js loads and exports main_handler`);
    }

    const push = pushUrlOfFake();
    expect(push).toMatch(/^http:\/\/set-fake\..*\/api-[0-9a-f]+$/);
    expect(updates().map((r) => r.params.FunctionName)).toEqual(STAGE_FUNCTIONS);
    for (const update of updates()) {
      // Only the environment is sent: nothing else of the function's configuration can be clobbered.
      expect(Object.keys(update.params).sort()).toEqual(['Environment', 'FunctionName', 'Namespace']);
    }
    for (const fn of STAGE_FUNCTIONS) {
      const vars = variables(fn);
      expect(vars.PUSH_URL).toBe(push);
      expect(vars).toMatchObject({
        COS_BUCKET: 'wschat-test-1250000000',
        COS_REGION: 'ap-guangzhou',
        COS_KEY_PREFIX: 'wschat/',
        PUSH_BUDGET_MS: '20000',
        CONNECTION_TTL_SECONDS: '900',
      });
      expect(cloud.functions.get(fn)!.Timeout).toBe(fn.endsWith('sweep') ? 120 : 30);
    }
    // Secrets reached the functions that need them, and only through the CLI's environment.
    expect(variables('wschat-dev-register').AUTH_SECRET).toBe('test-auth-secret-value-42');
    expect(variables('wschat-dev-publish').PUBLISH_TOKEN).toBe('test-publish-token-value-43');
    expect(variables('wschat-dev-transport').AUTH_SECRET).toBe('test-auth-secret-value-42');
    expect(variables('wschat-dev-cleanup').AUTH_SECRET).toBeUndefined();
    for (const tool of toolRuns(bin).filter((t) => t.tool === 'scf')) {
      expect(tool.instanceText).not.toContain('test-auth-secret-value-42');
      expect(tool.instanceText).not.toContain('test-publish-token-value-43');
      expect(tool.env.TENCENT_SECRET_ID).toBe(KEYS.secretId);
    }
    expect(toolRuns(bin).find((t) => t.cwd.endsWith(`${path.sep}register`))!.instanceText).toContain(
      'AUTH_SECRET: ${env:AUTH_SECRET}',
    );
    expect(run.stdout).not.toContain('test-auth-secret-value-42');

    const config = JSON.parse(readFileSync(path.join(bin.outDir, 'web', 'config.json'), 'utf8')) as unknown;
    const service = gatewayOfFake();
    expect(config).toEqual({
      wsUrl: `wss://${service.OuterSubDomain}/release/ws`,
      heartbeatSeconds: 200,
      authRequired: true,
    });
    expect(run.stdout).toContain(`POST https://${service.OuterSubDomain}/release/publish`);
  });

  it('changes nothing on a second run when PUSH_URL is already right', async () => {
    const first = await runDeploy(['--skip-tests'], env());
    expect(first.code).toBe(0);
    const updatesAfterFirst = updates().length;
    expect(updatesAfterFirst).toBe(5);

    const second = await runDeploy(['--skip-tests'], env());

    expect(second.code).toBe(0);
    expect(updates()).toHaveLength(updatesAfterFirst);
    expect(second.stdout.match(/PUSH_URL already set, no update/g)).toHaveLength(5);
    // The second phase one deployed the functions with the known URL, not the placeholder.
    const secondRun = toolRuns(bin)
      .filter((t) => t.tool === 'scf')
      .slice(DEPLOY_ORDER.length);
    const transport = secondRun.find((t) => t.cwd.endsWith(`${path.sep}transport`))!;
    expect(transport.instanceText).toContain(`PUSH_URL: ${pushUrlOfFake()}`);
    for (const fn of STAGE_FUNCTIONS) expect(variables(fn).PUSH_URL).toBe(pushUrlOfFake());
  });

  it('takes the push URL from the deploy outputs when the CLI prints them, with the SDK credential names', async () => {
    const run = await runDeploy(
      ['--skip-tests'],
      env({
        FAKE_CLI_INTERNAL_DOMAIN: '1',
        TENCENT_SECRET_ID: undefined,
        TENCENT_SECRET_KEY: undefined,
        TENCENTCLOUD_SECRET_ID: KEYS.secretId,
        TENCENTCLOUD_SECRET_KEY: KEYS.secretKey,
      }),
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(from deploy outputs)');
    expect(cloud.requests.filter((r) => r.action.startsWith('Describe'))).toEqual([]);
    for (const fn of STAGE_FUNCTIONS) expect(variables(fn).PUSH_URL).toBe(pushUrlOfFake());
    // The signed calls of phase 4 were accepted, and the CLI (which reads TENCENT_SECRET_ID) got the keys under
    // its own names.
    expect(cloud.rejected).toEqual([]);
    expect(updates()).toHaveLength(5);
    expect(toolRuns(bin).filter((t) => t.tool === 'scf')[0]!.env.TENCENT_SECRET_ID).toBe(KEYS.secretId);
  });

  it('finds the gateway by its exact name and keeps variables set outside serverless.yml', async () => {
    seedDeployedStack(cloud, env());
    // A service whose name merely contains ours: the API's name filter returns it too.
    cloud.services.unshift({
      ...cloud.services[0]!,
      ServiceId: 'service-decoy',
      ServiceName: 'wschat_dev_old',
      apis: [],
    });
    const sweep = cloud.functions.get('wschat-dev-sweep')!;
    sweep.Environment.Variables.unshift({ Key: 'OPERATOR_FLAG', Value: 'kept' });

    const run = await runDeploy(['--from-phase', '3'], env());

    expect(run.code).toBe(0);
    expect(phaseHeaders(run.stdout)).toEqual([3, 4, 5]);
    expect(cloud.timeline.filter((e) => !e.startsWith('api '))).toEqual([]);
    expect(cloud.requests[0]).toMatchObject({
      action: 'DescribeServicesStatus',
      params: { Filters: [{ Name: 'ServiceName', Values: ['wschat_dev'] }] },
    });
    expect(cloud.requests.filter((r) => r.params.ServiceId === 'service-decoy')).toEqual([]);
    expect(run.stdout).toContain('(from apigateway.DescribeApi)');
    expect(variables('wschat-dev-sweep')).toMatchObject({
      OPERATOR_FLAG: 'kept',
      PUSH_URL: pushUrlOfFake(),
      COS_BUCKET: 'wschat-test-1250000000',
    });
    expect(run.stdout).toContain('ok wschat-dev-sweep: PUSH_URL set, 6 other variables kept');
    // Secrets are not echoed in the progress log of the update calls.
    expect(run.stdout).toContain('{"Key":"AUTH_SECRET","Value":"***"}');
    expect(run.stdout).not.toContain('test-auth-secret-value-42');
  });

  it('prints the plan and runs nothing with --dry-run', async () => {
    const run = await runDeploy(['--dry-run', '--smoke'], env());

    expect(run.code).toBe(0);
    expect(toolRuns(bin)).toEqual([]);
    expect(cloud.timeline).toEqual([]);
    expect(cloud.requests).toEqual([]);
    expect(existsSync(bin.outDir)).toBe(false);
    expect(phaseHeaders(run.stdout)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.stdout).toContain('$ npm run build');
    for (const name of DEPLOY_ORDER)
      expect(run.stdout).toMatch(new RegExp(`\\$ scf deploy .*deploy/${name}: `));
    for (const action of [
      'DescribeServicesStatus',
      'DescribeApi ',
      'GetFunction',
      'UpdateFunctionConfiguration',
    ]) {
      expect(run.stdout).toContain(action);
    }
    expect(run.stdout).toContain('config.json');
    expect(run.stdout).toContain('nothing was executed');
    expect(run.stdout).not.toContain('test-auth-secret-value-42');
  });

  it('stops before doing anything when credentials are missing', async () => {
    const run = await runDeploy([], env({ TENCENT_SECRET_ID: undefined, TENCENT_SECRET_KEY: undefined }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Missing Tencent Cloud credentials: TENCENT_SECRET_ID and TENCENT_SECRET_KEY',
    );
    expect(run.stderr).toContain('TENCENTCLOUD_SECRET_ID');
    expect(cloud.timeline).toEqual([]);
    expect(toolRuns(bin)).toEqual([]);
  });

  it('stops in phase 1 when the build fails', async () => {
    const run = await runDeploy([], env({ FAKE_NPM_EXIT: '1' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 1 failed: npm run build exited with code 1');
    expect(run.stderr).toContain('Resume: npm run deploy -- --from-phase 1');
    expect(cloud.timeline).toEqual(['npm run build']);
  });

  it('stops in phase 2 when the CLI fails, naming the instance and how to resume', async () => {
    const run = await runDeploy(['--skip-tests'], env({ FAKE_CLI_FAIL: 'transport' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 2 failed: scf deploy failed for instance "transport" (exit code 1)');
    expect(run.stderr).toContain('ResourceNotFound.Role');
    expect(run.stderr).toContain('Resume: npm run deploy -- --from-phase 2');
    expect(cloud.timeline).toEqual([
      'npm run build',
      'scf deploy cos',
      'scf deploy register',
      'scf deploy transport',
    ]);
  });

  it('refuses a CLI that cannot deploy Tencent components even when it exits 0', async () => {
    const run = await runDeploy(
      ['--from-phase', '2'],
      env({ SLS_CLI: 'serverless', FAKE_CLI_MODE: 'v3-stub' }),
    );

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      '"serverless" cannot deploy Tencent Cloud components: this is serverless v3.x',
    );
    expect(run.stderr).toContain('serverless-cloud-framework');
    expect(cloud.timeline).toEqual(['serverless deploy cos']);
  });

  it('says how to install the CLI when it is not on PATH', async () => {
    const run = await runDeploy(['--from-phase', '2'], env({ SLS_CLI: 'no-such-serverless-cli' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'could not run the Serverless CLI "no-such-serverless-cli": not found on PATH',
    );
    expect(run.stderr).toContain('npm install -g serverless-cloud-framework');
  });

  it('stops in phase 3 when the API returns an error', async () => {
    seedDeployedStack(cloud, env());
    cloud.failNext('DescribeApi', 'InternalError', 'the gateway is having a bad day');

    const run = await runDeploy(['--from-phase', '3'], env());

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Phase 3 failed: apigateway.DescribeApi failed: [InternalError] the gateway',
    );
    expect(run.stderr).toContain('RequestId');
    expect(run.stderr).toContain('Resume: npm run deploy -- --from-phase 3');
    expect(cloud.requests.map((r) => r.action)).not.toContain('GetFunction');
    expect(updates()).toEqual([]);
  });

  it('stops when the API rejects the signature of a wrong key', async () => {
    seedDeployedStack(cloud, env());

    const run = await runDeploy(['--from-phase', '3'], env({ TENCENT_SECRET_KEY: 'not-the-right-key' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Phase 3 failed: apigateway.DescribeServicesStatus failed: [AuthFailure.SignatureFailure]',
    );
    expect(run.stderr).toContain('Fix: check TENCENT_SECRET_ID / TENCENT_SECRET_KEY');
    expect(cloud.rejected).toEqual(['AuthFailure.SignatureFailure: the signature does not match']);
  });

  it('stops in phase 4 when an update is refused, and the resumed run finishes the job', async () => {
    seedDeployedStack(cloud, env());
    cloud.failNext('UpdateFunctionConfiguration', 'UnauthorizedOperation.CAM', 'no permission on scf');

    const failed = await runDeploy(['--from-phase', '3'], env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(
      'Phase 4 failed: scf.UpdateFunctionConfiguration failed: [UnauthorizedOperation.CAM]',
    );
    expect(failed.stderr).toContain('QcloudSCFFullAccess');
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 4');
    expect(existsSync(path.join(bin.outDir, 'web', 'config.json'))).toBe(false);

    const resumed = await runDeploy(['--from-phase', '4'], env());

    expect(resumed.code).toBe(0);
    expect(phaseHeaders(resumed.stdout)).toEqual([4, 5]);
    for (const fn of STAGE_FUNCTIONS) expect(variables(fn).PUSH_URL).toBe(pushUrlOfFake());
    expect(existsSync(path.join(bin.outDir, 'web', 'config.json'))).toBe(true);
  });

  it('stops when the gateway service cannot be found', async () => {
    const run = await runDeploy(['--from-phase', '3'], env());

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Phase 3 failed: API Gateway service "wschat_dev" was not found in ap-guangzhou',
    );
    expect(run.stderr).toContain('--from-phase 2');
  });

  it('passes --smoke against a local stack after the deploy, and fails it against nothing', async () => {
    let stack: LocalStack | undefined;
    let wsUrl: string;
    try {
      stack = await startLocalStack({ port: 0, env: { AUTH_SECRET: 'test-auth-secret-value-42' } });
      wsUrl = stack.wsUrl;

      seedDeployedStack(cloud, env());

      const passed = await runDeploy(['--from-phase', '3', '--smoke', '--smoke-url', wsUrl], env());

      expect(passed.stderr).toBe('');
      expect(passed.code).toBe(0);
      expect(phaseHeaders(passed.stdout)).toEqual([3, 4, 5, 6]);
      expect(passed.stdout).toContain('ok smoke check passed');
    } finally {
      // Let the gateway finish the cleanup calls of the two smoke clients before the store goes away.
      for (let i = 0; i < 50 && (stack?.gateway.connectionIds().length ?? 0) > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      await stack?.close();
    }

    const failed = await runDeploy(
      ['--from-phase', '6', '--smoke-url', wsUrl, '--smoke-timeout', '2'],
      env(),
    );

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`Phase 6 failed: smoke check against ${wsUrl} failed: could not connect`);
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 6');
  });

  it('removes the instances in reverse order with --remove', async () => {
    const run = await runDeploy(['--remove'], env());

    expect(run.code).toBe(0);
    expect(cloud.timeline).toEqual([...DEPLOY_ORDER].reverse().map((n) => `scf remove ${n}`));
    expect(readdirSync(path.join(bin.outDir, 'deploy')).sort()).toEqual([...DEPLOY_ORDER].sort());
  });
});
