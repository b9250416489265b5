import { execFileSync } from 'child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import path from 'path';
import { startLocalStack, type LocalStack } from '../../scripts/local/stack';
import { parseEnvFile } from '../../scripts/deploy/gateway';
import {
  BUCKET,
  ensureBundles,
  FUNCTION_NAMES,
  phaseHeaders,
  runDeploy,
  startWorld,
  type World,
} from './harness';
import { DEFAULT_CLIENT_LIMITS } from '../helpers/client-limits';

/**
 * Runs the real `scripts/deploy-two-phase` against a fake of every Cloud API action it calls (fake-cloud-api.ts,
 * built from the SDK's models), a fake COS (fake-cos.ts, reached by the real COS SDK) and a fake `npm` first on PATH.
 * Each test starts from a fresh, empty account.
 */

const STAGE_FUNCTIONS = FUNCTION_NAMES.map((n) => `wschat-dev-${n}`);
const PUSH_URL = 'http://10.8.1.10:8081/push';

let world: World;

beforeAll(async () => {
  await ensureBundles();
});

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await world.close();
  rmSync(world.dir, { recursive: true, force: true });
});

const variables = (fn: string) =>
  Object.fromEntries(world.cloud.functions.get(fn)!.Environment.Variables.map((v) => [v.Key, v.Value]));
const object = (key: string) => world.cos.buckets.get(BUCKET)?.get(key);
const gatewayEnv = () => parseEnvFile(object('deploy/dev/gateway/gateway.env')!.toString('utf8'));
const tarList = (data: Buffer) => {
  const file = path.join(world.dir, 'release.tgz');
  writeFileSync(file, data);
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n').sort();
};
const tarFile = (data: Buffer, name: string) => {
  const file = path.join(world.dir, 'release.tgz');
  writeFileSync(file, data);
  return execFileSync('tar', ['-xzOf', file, name], { encoding: 'utf8' });
};

async function deployFresh(args: string[] = ['--skip-tests']) {
  const run = await runDeploy(args, world.env());
  if (run.code !== 0) throw new Error(`deploy failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

describe('npm run deploy on a fresh account', () => {
  it('creates the bucket, role, network, functions, URLs and gateway, then wires them both ways', async () => {
    const run = await runDeploy([], world.env());

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(phaseHeaders(run.stdout)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(world.cloud.rejected).toEqual([]);
    expect(readFileSync(world.npmLog, 'utf8')).toBe('npm run build\n');
    for (const name of FUNCTION_NAMES) {
      expect(run.stdout).toContain(`ok dist/functions/${name}/index.js loads and exports main_handler`);
    }

    // Phase 2: the bucket, private.
    expect(world.cos.log.slice(0, 2)).toEqual(['HEAD bucket', 'PUT bucket']);

    // Phase 3: role with the COS policy, network, functions.
    const role = world.cloud.roles.get('wschat_scf_role')!;
    expect(role.PolicyDocument).toContain('scf.qcloud.com');
    const policy = [...world.cloud.policies.values()].find((p) => p.PolicyName === 'wschat-dev-cos')!;
    expect(JSON.parse(String(policy.PolicyDocument))).toEqual({
      version: '2.0',
      statement: [
        {
          effect: 'allow',
          action: [
            'name/cos:PutObject',
            'name/cos:GetObject',
            'name/cos:GetBucket',
            'name/cos:DeleteObject',
            'name/cos:DeleteMultipleObjects',
          ],
          resource: [`qcs::cos:ap-guangzhou:uid/1250000000:${BUCKET}/*`],
        },
      ],
    });
    expect([...world.cloud.attachments].sort()).toEqual([
      'SCF_QcsRole/1',
      `wschat_scf_role/${String(policy.PolicyId)}`,
    ]);
    expect(world.cloud.roles.get('SCF_QcsRole')!.PolicyDocument).toContain('scf.qcloud.com');
    expect(world.cloud.vpcs).toHaveLength(1);
    expect(world.cloud.vpcs[0]).toMatchObject({ VpcName: 'wschat-dev', CidrBlock: '10.8.0.0/16' });
    expect(world.cloud.subnets[0]).toMatchObject({
      SubnetName: 'wschat-dev',
      CidrBlock: '10.8.1.0/24',
      Zone: 'ap-guangzhou-3',
    });
    const vpcId = String(world.cloud.vpcs[0]!.VpcId);
    const subnetId = String(world.cloud.subnets[0]!.SubnetId);

    const secret = variables('wschat-dev-register').GATEWAY_SECRET!;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    for (const name of STAGE_FUNCTIONS) {
      const fn = world.cloud.functions.get(name)!;
      expect(fn).toMatchObject({
        Runtime: 'Nodejs20.19',
        Handler: 'index.main_handler',
        Role: 'wschat_scf_role',
        MemorySize: 128,
        Timeout: name.endsWith('sweep') ? 120 : 30,
        VpcConfig: { VpcId: vpcId, SubnetId: subnetId },
        PublicNetConfig: { PublicNetStatus: 'ENABLE' },
        Tags: [{ Key: 'wschat-stack', Value: 'wschat-dev' }],
      });
      expect(Object.keys(fn.code)).toEqual(['index.js']);
      expect(fn.code['index.js']).toBe(
        readFileSync(
          path.join(__dirname, '..', '..', 'dist', 'functions', name.replace('wschat-dev-', ''), 'index.js'),
          'utf8',
        ),
      );
      // Phase 5 merged the push URL and the secret into what phase 3 set.
      expect(variables(name)).toMatchObject({
        COS_BUCKET: BUCKET,
        COS_REGION: 'ap-guangzhou',
        COS_KEY_PREFIX: 'wschat/',
        PUSH_BUDGET_MS: '20000',
        CONNECTION_TTL_SECONDS: '900',
        PUSH_URL,
        GATEWAY_SECRET: secret,
      });
    }
    expect(variables('wschat-dev-register').AUTH_SECRET).toBe('test-auth-secret-value-42');
    expect(variables('wschat-dev-publish').PUBLISH_TOKEN).toBe('test-publish-token-value-43');
    expect(variables('wschat-dev-cleanup').AUTH_SECRET).toBeUndefined();

    // Function URLs: private, no Tencent auth (the gateway signs), on the four functions the gateway invokes.
    const urls: Record<string, string> = {};
    for (const name of ['register', 'transport', 'cleanup', 'publish']) {
      const triggers = world.cloud.functions.get(`wschat-dev-${name}`)!.triggers;
      expect(triggers).toHaveLength(1);
      const desc = JSON.parse(String(triggers[0]!.TriggerDesc)) as {
        AuthType: string;
        NetConfig: Record<string, unknown>;
      };
      expect(desc).toMatchObject({
        AuthType: 'NONE',
        NetConfig: { EnableIntranet: true, EnableExtranet: false },
      });
      urls[name] = String(desc.NetConfig.IntranetUrl);
    }
    expect(world.cloud.functions.get('wschat-dev-sweep')!.triggers).toEqual([
      expect.objectContaining({
        Type: 'timer',
        TriggerName: 'sweep_every_5_minutes',
        TriggerDesc: '0 */5 * * * * *',
        Enable: 1,
      }),
    ]);

    // Phase 4: security group, instance in the VPC on the fixed private IP, release and environment via COS.
    const group = world.cloud.securityGroups[0]!;
    expect(group.policies).toEqual({
      Ingress: [
        expect.objectContaining({ Protocol: 'TCP', Port: '8080', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }),
        expect.objectContaining({
          Protocol: 'TCP',
          Port: '8081',
          CidrBlock: '10.8.0.0/16',
          Action: 'ACCEPT',
        }),
      ],
      Egress: [{ Protocol: 'ALL', Port: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
    });
    expect(world.cloud.instances).toHaveLength(1);
    const instance = world.cloud.instances[0]!;
    expect(instance).toMatchObject({
      InstanceName: 'wschat-dev-gateway',
      InstanceType: 'S5.SMALL2',
      ImageId: 'img-ubuntu2204',
      PrivateIpAddresses: ['10.8.1.10'],
      SecurityGroupIds: [group.SecurityGroupId],
      Tags: [{ Key: 'wschat-stack', Value: 'wschat-dev' }],
    });
    expect(instance.userData).toContain('systemctl restart wschat-gateway');
    expect(instance.userData).toContain('https://mirrors.tencent.com/nodejs-release/v20.19.5/');
    expect(instance.userData).not.toContain(secret);
    expect(world.cloud.commands.map((c) => c.name)).toEqual(['wschat-gateway-ready']);

    expect(tarList(object('deploy/dev/gateway/release.tgz')!)).toEqual(
      expect.arrayContaining(['gateway/index.js', 'web/config.json', 'web/index.html', 'web/app.js']),
    );
    expect(JSON.parse(tarFile(object('deploy/dev/gateway/release.tgz')!, 'web/config.json'))).toEqual({
      wsUrl: '/ws',
      heartbeatSeconds: 200,
      authRequired: true,
      limits: DEFAULT_CLIENT_LIMITS,
    });
    expect(gatewayEnv()).toEqual({
      GATEWAY_PORT: '8080',
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PUSH_PORT: '8081',
      GATEWAY_PUSH_HOST: '10.8.1.10',
      GATEWAY_SECRET: secret,
      GATEWAY_WEB_DIR: '/opt/wschat/release/web',
      GATEWAY_INVOKER: 'url',
      GATEWAY_NODE_ID: 'gw1',
      GATEWAY_IDLE_TIMEOUT_SECONDS: '600',
      GATEWAY_LOG_LEVEL: 'info',
      REGISTER_FUNCTION_URL: urls.register,
      TRANSPORT_FUNCTION_URL: urls.transport,
      CLEANUP_FUNCTION_URL: urls.cleanup,
      PUBLISH_FUNCTION_URL: urls.publish,
    });

    // Phase 6: the web config and the URLs.
    const ip = instance.PublicIpAddresses[0]!;
    expect(JSON.parse(readFileSync(path.join(world.outDir, 'web', 'config.json'), 'utf8'))).toEqual({
      wsUrl: `ws://${ip}:8080/ws`,
      heartbeatSeconds: 200,
      authRequired: true,
      limits: DEFAULT_CLIENT_LIMITS,
    });
    expect(run.stdout).toContain(`Web page     http://${ip}:8080/`);
    expect(run.stdout).toContain(`Push URL     ${PUSH_URL}`);
    // Secrets never reach the progress log.
    for (const value of ['test-auth-secret-value-42', 'test-publish-token-value-43', secret]) {
      expect(run.stdout).not.toContain(value);
    }
  });

  it('changes nothing on a second run', async () => {
    await deployFresh();
    const writes = world.cloud.writes().length;
    const puts = world.cos.log.filter((l) => l.startsWith('PUT')).length;
    const secret = variables('wschat-dev-transport').GATEWAY_SECRET;

    const second = await deployFresh();

    expect(world.cloud.writes().slice(writes)).toEqual([]);
    expect(world.cos.log.filter((l) => l.startsWith('PUT'))).toHaveLength(puts);
    expect(world.cloud.rejected).toEqual([]);
    expect(second.stdout.match(/ unchanged$/gm)).toHaveLength(5);
    expect(second.stdout).toContain('already runs this release and environment');
    expect(second.stdout.match(/PUSH_URL and GATEWAY_SECRET already set/g)).toHaveLength(5);
    expect(variables('wschat-dev-transport').GATEWAY_SECRET).toBe(secret);
  });

  it('updates only what changed, and keeps variables set outside scripts/deploy/tencent-stack.yml', async () => {
    await deployFresh();
    const sweep = world.cloud.functions.get('wschat-dev-sweep')!;
    sweep.Environment.Variables.unshift({ Key: 'OPERATOR_FLAG', Value: 'kept' });
    sweep.Timeout = 60;
    const writes = world.cloud.writes().length;

    const run = await deployFresh();

    expect(world.cloud.writes().slice(writes)).toEqual(['UpdateFunctionConfiguration']);
    expect(run.stdout).toContain('~ wschat-dev-sweep: configuration updated');
    expect(sweep.Timeout).toBe(120);
    expect(variables('wschat-dev-sweep')).toMatchObject({ OPERATOR_FLAG: 'kept', PUSH_URL });
  });

  it('prints every call with --dry-run and calls nothing', async () => {
    const run = await runDeploy(['--dry-run', '--smoke'], world.env());

    expect(run.code).toBe(0);
    expect(world.cloud.requests).toEqual([]);
    expect(world.cos.log).toEqual([]);
    expect(existsSync(world.npmLog)).toBe(false);
    expect(existsSync(world.outDir)).toBe(false);
    expect(phaseHeaders(run.stdout)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const text of [
      '$ npm run build',
      'cos putBucket',
      'cam.CreateRole',
      'cam.CreatePolicy',
      'vpc.CreateVpc',
      'vpc.CreateSubnet',
      'scf.CreateFunction {"FunctionName":"wschat-dev-register","Runtime":"Nodejs20.19"',
      'scf.CreateTrigger {"FunctionName":"wschat-dev-sweep","Type":"timer"',
      'vpc.ModifySecurityGroupPolicies',
      'cvm.RunInstances',
      'tat.RunCommand',
      'host| systemctl restart wschat-gateway',
      'host| tar -xzf "$D/release.tgz" -C "$D/release.new"',
      "host| curl -fsSL --retry 5 '<pre-signed URL of deploy/dev/gateway/release.tgz>'",
      `PUSH_URL = ${PUSH_URL}`,
      'config.json',
      'nothing is called or run',
    ]) {
      expect(run.stdout).toContain(text);
    }
    expect(run.stdout).not.toContain('test-auth-secret-value-42');

    // The plan names every action a real run on this fresh account then calls, and every COS request.
    await deployFresh();
    const called = [...new Set(world.cloud.requests.map((r) => `${r.service}.${r.action}`))];
    expect(called.filter((a) => !run.stdout.includes(a))).toEqual([]);
    const cosCalls = [...new Set(world.cos.log.map((l) => l.split(' ')[0]))];
    expect(cosCalls.sort()).toEqual(['GET', 'HEAD', 'PUT']);
    for (const op of ['cos headBucket', 'cos putBucket', 'cos putObject']) expect(run.stdout).toContain(op);
  });

  it('stops before calling anything when credentials are missing', async () => {
    const run = await runDeploy(
      [],
      world.env({ TENCENTCLOUD_SECRET_ID: undefined, TENCENTCLOUD_SECRET_KEY: undefined }),
    );

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Missing Tencent Cloud credentials: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY',
    );
    expect(world.cloud.requests).toEqual([]);
    expect(existsSync(world.npmLog)).toBe(false);
  });
});

describe('a failed phase says what to fix, and the resumed run finishes', () => {
  it('phase 1: the build', async () => {
    const run = await runDeploy([], world.env({ FAKE_NPM_EXIT: '1' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 1 failed: npm run build exited with code 1');
    expect(run.stderr).toContain('Resume: npm run deploy -- --from-phase 1');
    expect(world.cloud.requests).toEqual([]);
  });

  it('phase 1: the gateway bundle is missing', async () => {
    const run = await runDeploy(
      ['--skip-tests'],
      world.env({ GATEWAY_BUNDLE: path.join(world.dir, 'nothing.js') }),
    );

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 1 failed: the gateway bundle');
    expect(run.stderr).toContain('scripts/build.mjs must bundle code/gateway to dist/gateway/index.js');
  });

  it('phase 2: a bucket name owned by another account', async () => {
    world.cos.foreign.add(BUCKET);
    const failed = await runDeploy(['--skip-tests'], world.env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(
      `Phase 2 failed: bucket ${BUCKET} exists but this key may not use it (403)`,
    );
    expect(failed.stderr).toContain('pick another name (COS_BUCKET)');
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 2');
    expect(world.cloud.requests).toEqual([]);

    world.cos.foreign.delete(BUCKET);
    const resumed = await runDeploy(['--from-phase', '2'], world.env());
    expect(resumed.code).toBe(0);
    expect(phaseHeaders(resumed.stdout)).toEqual([2, 3, 4, 5, 6]);
  });

  it('phase 3: SCF refuses the key, and the resumed run creates the rest', async () => {
    world.cloud.failNext('CreateFunction', 'UnauthorizedOperation.CAM', 'no scf:CreateFunction for this key');
    const failed = await runDeploy(['--skip-tests'], world.env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('Phase 3 failed: scf.CreateFunction failed: [UnauthorizedOperation.CAM]');
    expect(failed.stderr).toContain('RequestId');
    expect(failed.stderr).toContain('give the deploy key scf:CreateFunction');
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 3');
    expect(world.cloud.functions.size).toBe(0);

    const resumed = await runDeploy(['--from-phase', '3'], world.env());
    expect(resumed.code).toBe(0);
    expect(world.cloud.functions.size).toBe(5);
    expect([...world.cloud.roles.keys()].sort()).toEqual(['SCF_QcsRole', 'wschat_scf_role']);
    expect(world.cloud.vpcs).toHaveLength(1);
  });

  it('phase 4: the gateway does not become ready, and the resumed run reinstalls it', async () => {
    world.cloud.failNextCommand(
      'FAILED',
      'wschat gateway did not become ready\nError: GATEWAY_SECRET is required\n',
    );
    const failed = await runDeploy(['--skip-tests'], world.env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/Phase 4 failed: wschat-gateway-ready on ins-\w+ ended FAILED/);
    expect(failed.stderr).toContain('GATEWAY_SECRET is required');
    expect(failed.stderr).toContain('journalctl -u wschat-gateway');
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 4');

    const resumed = await runDeploy(['--from-phase', '4'], world.env());
    expect(resumed.code).toBe(0);
    expect(world.cloud.instances).toHaveLength(1);
    expect(world.cloud.commands.map((c) => c.name)).toEqual([
      'wschat-gateway-ready',
      'wschat-gateway-install',
    ]);
    const install = world.cloud.commands[1]!.script;
    expect(install).toContain('/deploy/dev/gateway/release.tgz?');
    expect(install).toContain('systemctl restart wschat-gateway');
    for (const name of STAGE_FUNCTIONS) expect(variables(name).PUSH_URL).toBe(PUSH_URL);
  });

  it('phase 5: an update is refused; the resume keeps the secret the gateway has', async () => {
    await deployFresh();
    const secret = gatewayEnv().GATEWAY_SECRET;
    for (const fn of world.cloud.functions.values()) {
      fn.Environment.Variables = fn.Environment.Variables.filter(
        (v) => v.Key !== 'PUSH_URL' && v.Key !== 'GATEWAY_SECRET',
      );
    }
    world.cloud.failNext('UpdateFunctionConfiguration', 'UnauthorizedOperation.CAM', 'no permission');

    const failed = await runDeploy(['--from-phase', '5'], world.env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(
      'Phase 5 failed: scf.UpdateFunctionConfiguration failed: [UnauthorizedOperation.CAM]',
    );
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 5');
    expect(phaseHeaders(failed.stdout)).toEqual([5]);

    const resumed = await runDeploy(['--from-phase', '5'], world.env());
    expect(resumed.code).toBe(0);
    expect(phaseHeaders(resumed.stdout)).toEqual([5, 6]);
    for (const name of STAGE_FUNCTIONS)
      expect(variables(name)).toMatchObject({ PUSH_URL, GATEWAY_SECRET: secret });
  });

  it('phase 4: a GATEWAY_SECRET too short for the gateway', async () => {
    const run = await runDeploy(['--skip-tests'], world.env({ GATEWAY_SECRET: 'short' }));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 4 failed: GATEWAY_SECRET is shorter than 32 characters');
    expect(run.stderr).toContain('openssl rand -hex 32');
    expect(world.cloud.instances).toEqual([]);
  });

  it('phase 6: the gateway has no public IP', async () => {
    await deployFresh();
    const instance = world.cloud.instances[0]!;
    const ip = instance.PublicIpAddresses;
    instance.PublicIpAddresses = [];

    const failed = await runDeploy(['--from-phase', '6'], world.env());

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('Phase 6 failed: the gateway has no public IP (or no instance)');
    expect(failed.stderr).toContain('Fix: resume with --from-phase 4');
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 6');

    instance.PublicIpAddresses = ip;
    const resumed = await runDeploy(['--from-phase', '6'], world.env());
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`WebSocket    ws://${ip[0]!}:8080/ws`);
  });

  it('phase 5 on an account where phase 3 never ran says to resume there', async () => {
    const run = await runDeploy(['--from-phase', '5'], world.env());

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Phase 5 failed: scf.ListTriggers failed: [ResourceNotFound.Function]');
    expect(run.stderr).toContain('resume with --from-phase 3');
  });

  it('phase 7: --smoke chats through the gateway at the address phase 6 found, and fails against nothing', async () => {
    await deployFresh();
    let stack: LocalStack | undefined;
    let wsUrl: string;
    try {
      // The local stack stands in for the deployed host: the fake instance's public IP becomes loopback, and the
      // public port the local gateway's.
      stack = await startLocalStack({ port: 0, env: { AUTH_SECRET: 'test-auth-secret-value-42' } });
      wsUrl = stack.wsUrl;
      const port = new URL(wsUrl).port;
      world.cloud.instances[0]!.PublicIpAddresses = ['127.0.0.1'];
      const passed = await runDeploy(
        ['--from-phase', '6', '--smoke'],
        world.env({ GATEWAY_PUBLIC_PORT: port }),
      );
      expect(passed.stderr).toBe('');
      expect(passed.code).toBe(0);
      expect(phaseHeaders(passed.stdout)).toEqual([6, 7]);
      expect(passed.stdout).toContain(`connecting two clients to ws://127.0.0.1:${port}/ws`);
      expect(passed.stdout).toContain('ok smoke check passed');
    } finally {
      // Let the gateway finish the cleanup calls of the two smoke clients before the store goes away.
      for (let i = 0; i < 50 && (stack?.gateway.connectionIds().length ?? 0) > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await stack?.gateway.settled();
      await stack?.close();
    }
    const failed = await runDeploy(
      ['--from-phase', '7', '--smoke-url', wsUrl, '--smoke-timeout', '2'],
      world.env(),
    );

    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`Phase 7 failed: smoke check against ${wsUrl} failed: could not connect`);
    expect(failed.stderr).toContain('Resume: npm run deploy -- --from-phase 7');
  });
});

describe('npm run deploy -- --remove', () => {
  it('removes what the deploy created and keeps the bucket and its data, saying so', async () => {
    await deployFresh();
    world.cos.buckets.get(BUCKET)!.set('wschat/history/lobby/1', Buffer.from('{}'));

    const run = await runDeploy(['--remove'], world.env());

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(world.cloud.instances).toEqual([]);
    expect(world.cloud.securityGroups).toEqual([]);
    expect(world.cloud.functions.size).toBe(0);
    expect([...world.cloud.roles.keys()]).toEqual(['SCF_QcsRole']);
    expect([...world.cloud.policies.values()].map((p) => p.PolicyName)).toEqual(['QcloudAccessForScfRole']);
    expect(world.cloud.vpcs).toEqual([]);
    expect(world.cloud.subnets).toEqual([]);
    expect([...world.cos.buckets.get(BUCKET)!.keys()]).toEqual(['wschat/history/lobby/1']);
    expect(run.stdout).toContain(`keep:   bucket ${BUCKET} and everything under wschat/`);
    expect(run.stdout).toContain('keep:   CLS log topics');
    expect(run.stdout).toContain('keep:   the SCF service role SCF_QcsRole');
    expect(world.cloud.rejected).toEqual([]);

    const again = await runDeploy(['--remove'], world.env());
    expect(again.code).toBe(0);
    world.cos.buckets.delete(BUCKET);
    const noBucket = await runDeploy(['--remove'], world.env());
    expect(noBucket.code).toBe(0);
    expect(noBucket.stdout).toContain(`bucket ${BUCKET} does not exist: nothing to remove there`);
  });

  it('keeps a role it did not create', async () => {
    await deployFresh();
    world.cloud.roles.get('wschat_scf_role')!.Description = 'made by hand';

    const run = await runDeploy(['--remove'], world.env());

    expect(run.code).toBe(0);
    expect(world.cloud.roles.has('wschat_scf_role')).toBe(true);
    expect(run.stdout).toContain('keep: role wschat_scf_role (not created by this deploy)');
  });

  it('deletes the chat data and the bucket only with --delete-bucket', async () => {
    await deployFresh();
    world.cos.buckets.get(BUCKET)!.set('wschat/history/lobby/1', Buffer.from('{}'));

    const run = await runDeploy(['--remove', '--delete-bucket'], world.env());

    expect(run.code).toBe(0);
    expect(world.cos.buckets.has(BUCKET)).toBe(false);
    const refused = await runDeploy(['--delete-bucket'], world.env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--delete-bucket only goes with --remove');
  });

  it('prints what it would remove and keep with --dry-run, and calls nothing', async () => {
    await deployFresh();
    const before = world.cloud.requests.length;
    const cosBefore = world.cos.log.length;
    const run = await runDeploy(['--remove', '--dry-run'], world.env());

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('remove: CVM instance wschat-dev-gateway');
    expect(run.stdout).toContain(`keep:   bucket ${BUCKET}`);
    expect(world.cloud.requests).toHaveLength(before);
    expect(world.cos.log).toHaveLength(cosBefore);

    // The plan names every action the real removal then calls.
    await runDeploy(['--remove'], world.env());
    const called = [...new Set(world.cloud.requests.slice(before).map((r) => `${r.service}.${r.action}`))];
    expect(called.filter((a) => !run.stdout.includes(a))).toEqual([]);
  });
});
