import { readFileSync } from 'fs';
import path from 'path';
import { redact } from '../../scripts/deploy/context';
import { parseArgs } from '../../scripts/deploy/deploy';
import { DeployError } from '../../scripts/deploy/errors';
import { inCidr, loadStack } from '../../scripts/deploy/stack';
import { ROOT } from './harness';

const SOURCE = readFileSync(path.join(ROOT, 'scripts/deploy/tencent-stack.yml'), 'utf8');
const ENV = { COS_BUCKET: 'wschat-1250000000' };
const load = (source: string, env: Record<string, string> = ENV) => loadStack(source, { root: ROOT, env });

function failure(fn: () => unknown): DeployError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DeployError) return error;
    throw error;
  }
  throw new Error('expected a DeployError');
}

describe('loadStack', () => {
  it('reads scripts/deploy/tencent-stack.yml with its defaults and environment overrides', () => {
    const dev = load(SOURCE);
    expect(dev).toMatchObject({ app: 'wschat', stage: 'dev', region: 'ap-guangzhou', tag: 'wschat-dev' });
    expect(dev.bucket).toEqual({
      name: 'wschat-1250000000',
      appId: '1250000000',
      keyPrefix: 'wschat/',
      deployPrefix: 'deploy/dev/',
    });
    expect(dev.network).toMatchObject({ vpcName: 'wschat-dev', zone: 'ap-guangzhou-3', vpcId: undefined });
    expect(dev.gateway).toMatchObject({
      host: 'cvm',
      instanceType: 'S5.SMALL2',
      privateIp: '10.8.1.10',
      publicPort: 8080,
      pushPort: 8081,
    });
    expect(dev.gateway.variables.GATEWAY_ALLOWED_ORIGINS).toBeUndefined();
    const prod = load(SOURCE, {
      ...ENV,
      STAGE: 'prod',
      REGION: 'ap-shanghai',
      ZONE: 'ap-shanghai-2',
      SCF_ROLE: 'other_role',
      VPC_ID: 'vpc-1',
      SUBNET_ID: 'subnet-1',
      GATEWAY_ALLOWED_ORIGINS: 'https://chat.example.com',
    });
    expect(prod.functions.map((f) => f.functionName)).toContain('wschat-prod-transport');
    expect(prod).toMatchObject({
      region: 'ap-shanghai',
      role: { name: 'other_role' },
      network: { vpcId: 'vpc-1', subnetId: 'subnet-1' },
    });
    expect(prod.gateway.variables.GATEWAY_ALLOWED_ORIGINS).toBe('https://chat.example.com');
  });

  it('names every missing variable at once', () => {
    const error = failure(() => load(SOURCE, {}));
    expect(error.message).toBe(
      'scripts/deploy/tencent-stack.yml needs COS_BUCKET from the environment, and it is not set',
    );
    expect(error.fix).toContain('export COS_BUCKET=...');
  });

  it('refuses the old Serverless Components format', () => {
    const error = failure(() => load('app: wschat\ninstances:\n  cos:\n    component: cos\n'));
    expect(error.message).toContain('version must be 1');
    expect(error.message).toContain('"instances" is the old Serverless Components format');
  });

  it('refuses unknown variables, secrets written inline and pasted keys', () => {
    const bad = SOURCE.replace(
      'COS_KEY_PREFIX: wschat/',
      'COS_KEY_PREFIX: ${output:x}\n    MY_SECRET: hunter2',
    ).replace('GATEWAY_LOG_LEVEL: info', 'GATEWAY_LOG_LEVEL: info\n    SOME_TOKEN: AKIDabcdefghijklmnop1234');
    const error = failure(() => load(bad));
    expect(error.message).toContain('unknown variable ${output:x}');
    expect(error.message).toContain('functionDefaults.environment.MY_SECRET looks like a secret');
    expect(error.message).toContain('gateway.environment.SOME_TOKEN looks like a secret');
    expect(error.message).toContain('looks like a Tencent Cloud key (AKIDabcd…)');
  });

  it('refuses a bucket name without the APPID, a zone of another region, an IP outside the subnet', () => {
    expect(failure(() => load(SOURCE, { COS_BUCKET: 'wschat' })).message).toContain(
      'bucket.name "wschat" must be the full bucket name, name-APPID',
    );
    expect(failure(() => load(SOURCE, { ...ENV, REGION: 'ap-beijing' })).message).toContain(
      'network.zone "ap-guangzhou-3" is not in region ap-beijing',
    );
    expect(
      failure(() => load(SOURCE.replace('privateIp: 10.8.1.10', 'privateIp: 10.9.0.1'))).message,
    ).toContain('gateway.privateIp 10.9.0.1 is not in network.subnetCidr 10.8.1.0/24');
    expect(failure(() => load(SOURCE, { ...ENV, VPC_ID: 'vpc-1' })).message).toContain(
      'network.vpcId and network.subnetId go together',
    );
  });

  it('refuses a node ID the gateway would refuse', () => {
    expect(
      failure(() => load(SOURCE.replace('GATEWAY_NODE_ID: gw1', 'GATEWAY_NODE_ID: wschat-dev-1'))).message,
    ).toContain('GATEWAY_NODE_ID must be 1-16 letters or digits, got "wschat-dev-1"');
  });

  it('refuses a function that misses the gateway, PUSH_URL in the file, a budget above the timeout', () => {
    expect(
      failure(() => load(SOURCE.replace('    url: true # a private', '    url: false # a private'))).message,
    ).toContain('functions.register.url must be true');
    expect(
      failure(() =>
        load(SOURCE.replace("PUSH_BUDGET_MS: '20000'", "PUSH_BUDGET_MS: '20000'\n    PUSH_URL: http://x")),
      ).message,
    ).toContain('PUSH_URL is set by phase 5');
    expect(
      failure(() => load(SOURCE.replace("PUSH_BUDGET_MS: '20000'", "PUSH_BUDGET_MS: '30000'"))).message,
    ).toContain('function wschat-dev-transport: PUSH_BUDGET_MS 30000 must stay below its timeout (30 s)');
    expect(
      failure(() =>
        load(SOURCE.replace("GATEWAY_IDLE_TIMEOUT_SECONDS: '600'", "GATEWAY_IDLE_TIMEOUT_SECONDS: '1800'")),
      ).message,
    ).toContain('CONNECTION_TTL_SECONDS 900 must cover two client heartbeats (2 × 600 s');
  });
});

describe('inCidr', () => {
  it('tells whether an address lies in a block', () => {
    expect(inCidr('10.8.1.10', '10.8.1.0/24')).toBe(true);
    expect(inCidr('10.8.2.10', '10.8.1.0/24')).toBe(false);
    expect(inCidr('10.8.2.10', '10.8.0.0/16')).toBe(true);
    expect(inCidr('nonsense', '10.8.0.0/16')).toBe(false);
  });
});

describe('redact', () => {
  it('hides secret variables, code, boot scripts and commands in logged API parameters', () => {
    expect(
      redact({
        Code: { ZipFile: 'UEsDBAo=' },
        UserData: 'IyEvYmluL2Jhc2g=',
        Content: 'ZWNobw==',
        Environment: {
          Variables: [
            { Key: 'AUTH_SECRET', Value: 's3cret' },
            { Key: 'GATEWAY_SECRET', Value: 'g' },
            { Key: 'PUSH_URL', Value: 'http://x' },
          ],
        },
      }),
    ).toEqual({
      Code: { ZipFile: '<8 base64 chars>' },
      UserData: '<16 base64 chars>',
      Content: '<8 base64 chars>',
      Environment: {
        Variables: [
          { Key: 'AUTH_SECRET', Value: '***' },
          { Key: 'GATEWAY_SECRET', Value: '***' },
          { Key: 'PUSH_URL', Value: 'http://x' },
        ],
      },
    });
  });
});

describe('parseArgs', () => {
  it('reads the options, and refuses what makes no sense', () => {
    expect(parseArgs(['--from-phase', '4', '--smoke'])).toMatchObject({
      fromPhase: 4,
      smoke: true,
      dryRun: false,
    });
    expect(parseArgs(['--from-phase=7'])).toMatchObject({ fromPhase: 7, smoke: true });
    expect(parseArgs(['--smoke-url', 'wss://chat.example.com/ws'])).toMatchObject({ smoke: true });
    expect(parseArgs(['--remove', '--delete-bucket'])).toMatchObject({ remove: true, deleteBucket: true });
    expect(() => parseArgs(['--from-phase', '8'])).toThrow('--from-phase must be 1 to 7');
    expect(() => parseArgs(['--smoke-url', 'http://x'])).toThrow('--smoke-url must be a ws:// or wss:// URL');
    expect(() => parseArgs(['--delete-bucket'])).toThrow('--delete-bucket only goes with --remove');
    expect(() => parseArgs(['--deploy-everything'])).toThrow('unknown option --deploy-everything');
  });
});
