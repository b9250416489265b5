import { readFileSync } from 'fs';
import path from 'path';
import { DeployError } from '../../scripts/deploy/errors';
import { redact } from '../../scripts/deploy/phases';
import { parseOutputs, stripAnsi, unsupportedCli } from '../../scripts/deploy/serverless-cli';
import { instanceFile, loadStack, validateStack } from '../../scripts/deploy/stack';
import { ROOT } from './harness';

const SOURCE = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
const ENV = { COS_BUCKET: 'wschat-1250000000' };
const load = (source: string, env: Record<string, string> = ENV) =>
  loadStack(source, { root: ROOT, env, pushUrl: 'pending' });

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
  it('uses ${env:NAME, default} defaults and environment overrides', () => {
    expect(load(SOURCE)).toMatchObject({ app: 'wschat', stage: 'dev', region: 'ap-guangzhou' });
    const prod = load(SOURCE, { ...ENV, STAGE: 'prod', REGION: 'ap-shanghai', SCF_ROLE: 'other_role' });
    expect(prod).toMatchObject({ stage: 'prod', region: 'ap-shanghai' });
    expect(prod.functions.map((f) => f.functionName)).toContain('wschat-prod-transport');
    expect(prod.instances.find((i) => i.name === 'register')!.inputs.role).toBe('other_role');
  });

  it('names every missing variable at once', () => {
    const error = failure(() => load(SOURCE, {}));
    expect(error.message).toBe('serverless.yml needs COS_BUCKET from the environment, and it is not set');
    expect(error.fix).toContain('export COS_BUCKET=...');
  });

  it('rejects unknown variables and secrets embedded in longer strings', () => {
    const bad = SOURCE.replace(
      'COS_KEY_PREFIX: wschat/',
      'COS_KEY_PREFIX: ${output:dev:wschat:cos.bucket}',
    ).replace(
      'description: Prunes stale connections and expired history',
      'description: key ${secret:AUTH_SECRET}',
    );
    const error = failure(() => load(bad));
    expect(error.message).toContain('unknown variable ${output:dev:wschat:cos.bucket}');
    expect(error.message).toContain('${secret:...} must be the whole value');
  });

  it('deploys in the order bucket, functions, gateway whatever the file order', () => {
    const reordered =
      SOURCE.replace(/\n {2}cos:\n(?: {4}.*\n| *\n)+?(?= {2}register:)/, '\n') +
      '  cos:\n    component: cos\n    inputs:\n      bucket: x-1250000000\n';
    expect(load(reordered).instances.map((i) => i.component)).toEqual([
      'cos',
      'scf',
      'scf',
      'scf',
      'scf',
      'scf',
      'apigateway',
    ]);
  });
});

describe('validateStack', () => {
  it('accepts serverless.yml as it is', () => {
    expect(() => validateStack(load(SOURCE))).not.toThrow();
  });

  it('refuses a bucket name without the APPID suffix', () => {
    const error = failure(() => validateStack(load(SOURCE, { COS_BUCKET: 'wschat' })));
    expect(error.message).toContain('COS_BUCKET "wschat" must be the full bucket name, name-APPID');
  });

  it('refuses a push budget that does not fit in the function timeout', () => {
    const error = failure(() =>
      validateStack(load(SOURCE.replace("PUSH_BUDGET_MS: '20000'", "PUSH_BUDGET_MS: '30000'"))),
    );
    expect(error.message).toContain(
      'function wschat-dev-transport: PUSH_BUDGET_MS 30000 must stay below its timeout (30 s)',
    );
  });

  it('refuses a connection TTL that does not cover two heartbeats', () => {
    const error = failure(() =>
      validateStack(load(SOURCE.replace('serviceTimeout: 600', 'serviceTimeout: 1800'))),
    );
    expect(error.message).toContain('CONNECTION_TTL_SECONDS 900 must cover two client heartbeats (2 × 600 s');
  });

  it('refuses keys and literal secrets in the file', () => {
    const withKey = SOURCE.replace(
      'COS_KEY_PREFIX: wschat/',
      'COS_KEY_PREFIX: wschat/\n  TENCENTCLOUD_SECRETID: AKIDabcdefghijklmnop1234',
    );
    const error = failure(() => validateStack(load(withKey)));
    expect(error.message).toContain('TENCENTCLOUD_SECRETID looks like a secret');
    expect(error.message).toContain('looks like a Tencent Cloud key (AKIDabcd…)');
  });

  it('refuses a WEBSOCKET endpoint bound to a function the stack does not deploy', () => {
    const error = failure(() =>
      validateStack(
        load(SOURCE.replace('cleanupFunctionName: *cleanup-name', 'cleanupFunctionName: elsewhere')),
      ),
    );
    expect(error.message).toContain('the WEBSOCKET cleanup function "elsewhere" is not an scf instance here');
  });
});

describe('instanceFile', () => {
  it('writes the single-instance format with src relative to the instance folder', () => {
    const stack = load(SOURCE);
    const register = stack.instances.find((i) => i.name === 'register')!;
    const text = instanceFile(stack, register, path.join(ROOT, 'dist', 'deploy', 'register'), ROOT);
    expect(text).toContain('component: scf\nname: register\n');
    expect(text).toContain('src: ../../functions/register\n');
    expect(text).toContain('app: wschat\nstage: dev\n');
  });
});

describe('CLI output', () => {
  it('reads prettyoutput key: value lines, colours and all', () => {
    const output =
      '\u001b[1mserviceId:\u001b[22m   service-abc\n\u001b[1msubDomain:\u001b[22m   service-abc-125.gz.apigw.tencentcs.com\n' +
      'apis:\n  - \n    path:   /ws\n    apiId:  api-1\n    internalDomain: http://set-1.cb-gz.apigateway.tencentyun.com/api-1\n';
    expect(parseOutputs(output)).toEqual({
      serviceId: ['service-abc'],
      subDomain: ['service-abc-125.gz.apigw.tencentcs.com'],
      path: ['/ws'],
      apiId: ['api-1'],
      internalDomain: ['http://set-1.cb-gz.apigateway.tencentyun.com/api-1'],
    });
    expect(stripAnsi('\u001b[2K\u001b[1Gdone')).toBe('done');
  });

  it('recognises CLIs that cannot deploy Tencent components', () => {
    expect(unsupportedCli('Serverless Framework CLI no longer supports Serverless Tencent CLI')).toContain(
      'v3',
    );
    expect(unsupportedCli('✖ Serverless Framework V.4 only supports "aws" as a Provider.')).toContain('v4');
    expect(unsupportedCli('5s › register › 执行完毕')).toBeUndefined();
  });
});

describe('redact', () => {
  it('hides the values of secret-looking variables in logged API parameters', () => {
    expect(
      redact({
        Environment: {
          Variables: [
            { Key: 'AUTH_SECRET', Value: 's3cret' },
            { Key: 'PUBLISH_TOKEN', Value: 't0ken' },
            { Key: 'PUSH_URL', Value: 'http://x' },
          ],
        },
      }),
    ).toEqual({
      Environment: {
        Variables: [
          { Key: 'AUTH_SECRET', Value: '***' },
          { Key: 'PUBLISH_TOKEN', Value: '***' },
          { Key: 'PUSH_URL', Value: 'http://x' },
        ],
      },
    });
  });
});
