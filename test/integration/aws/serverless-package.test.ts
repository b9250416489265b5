import { execFile } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import JSZip from 'jszip';

/**
 * `serverless package` with the root serverless.yml, offline: no AWS credentials, no account login, no plugin
 * download, a fresh HOME. The CloudFormation template must hold the WebSocket API with its three routes, the
 * publish routes, the schedule, the bucket and the least-privilege role; each zip only its prebuilt bundle.
 */

const ROOT = path.resolve(__dirname, '../../..');

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

describe('serverless package (the AWS stack)', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'wschat-sls-'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'wschat-home-'));
  let template: Template;
  let stdout = '';

  beforeAll(async () => {
    stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/serverless/bin/serverless.js'),
          'package',
          '--package',
          out,
          '--stage',
          'ci',
        ],
        {
          cwd: ROOT,
          timeout: 120_000,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            SLS_TELEMETRY_DISABLED: '1',
            SLS_NOTIFICATIONS_MODE: 'off',
            // Unroutable proxy: any request the framework tried to make would fail the package.
            HTTPS_PROXY: 'http://127.0.0.1:9',
            HTTP_PROXY: 'http://127.0.0.1:9',
          },
        },
        (error, out1, err1) =>
          error ? reject(new Error(`${error.message}\n${out1}\n${err1}`)) : resolve(`${out1}${err1}`),
      );
    });
    template = JSON.parse(
      readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
  }, 150_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

  it('packages without credentials or a login', () => {
    expect(stdout).toMatch(/Service packaged/);
  });

  it('has a WEBSOCKET API with $connect, $default and $disconnect, and the publish HTTP API', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api').map((r) => r.Properties.ProtocolType);
    expect(apis.sort()).toEqual(['HTTP', 'WEBSOCKET']);
    const routes = ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(
      ['$connect', '$default', '$disconnect', 'POST /publish', 'POST /token'].sort(),
    );
    expect(ofType('AWS::Events::Rule').map((r) => r.Properties.ScheduleExpression)).toEqual([
      'rate(5 minutes)',
    ]);
    expect(ofType('AWS::S3::Bucket').length).toBe(2); // the chat's and the framework's deployment bucket
  });

  it('gives every function the push endpoint from the API itself (one phase) and nodejs20.x', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs20.x');
      const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(JSON.stringify(vars.PUSH_ENDPOINT)).toContain('{"Ref":"WebsocketsApi"}');
      expect(vars.S3_BUCKET).toEqual({ Ref: 'ChatBucket' });
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': ['ChatFunctionRole', 'Arn'] });
    }
  });

  it('grants least privilege: the app prefix of its bucket, pushes on its own API and stage, nothing else', () => {
    const roles = ofType('AWS::IAM::Role');
    expect(roles).toHaveLength(1);
    const policies = roles[0]!.Properties.Policies as Array<{
      PolicyDocument: { Statement: Array<{ Action: string | string[] }> };
    }>;
    const text = JSON.stringify(policies);
    const actions = policies
      .flatMap((p) => p.PolicyDocument.Statement)
      .flatMap((s) => s.Action)
      .sort();
    expect(actions).toEqual(
      [
        'execute-api:ManageConnections',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteObject',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ].sort(),
    );
    expect(text).toContain('${WebsocketsApi}/ci/POST/@connections/*');
    expect(text).not.toMatch(/execute-api:\*|"\*"/);
  });

  it('zips each function with only its prebuilt bundle', async () => {
    for (const name of ['connect', 'default', 'disconnect', 'publish', 'sweep']) {
      const zip = await JSZip.loadAsync(readFileSync(path.join(out, `${name}.zip`)));
      const files = Object.values(zip.files)
        .filter((f) => !f.dir)
        .map((f) => f.name);
      expect(files).toEqual([`dist/aws/${name}/index.js`]);
    }
  });
});
