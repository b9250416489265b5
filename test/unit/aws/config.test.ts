import { readFileSync } from 'fs';
import path from 'path';
import { parse } from 'yaml';
import { FUNCTION_ENV_VARS } from '../../../code/config';
import { AWS_FUNCTION_ENV_VARS, loadAwsConfig } from '../../../code/config-aws';

/** The Lambda functions' configuration, the list of what it reads, and serverless.yml setting only those. */

const base = {
  S3_BUCKET: 'wschat-bucket',
  AWS_REGION: 'eu-west-1',
  PUSH_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
};

/** What loadConfig reads that is about COS, Tencent keys or our gateway: none of it applies on AWS. */
const TENCENT_ONLY = new Set([
  'COS_BUCKET',
  'COS_REGION',
  'COS_ENDPOINT',
  'COS_KEY_PREFIX',
  'COS_TIMEOUT_MS',
  'COS_SECRET_ID',
  'COS_SECRET_KEY',
  'TENCENTCLOUD_SECRETID',
  'TENCENTCLOUD_SECRETKEY',
  'TENCENTCLOUD_SESSIONTOKEN',
  'PUSH_URL',
  'GATEWAY_SECRET',
]);
const CHAT_VARS = FUNCTION_ENV_VARS.filter((name) => !TENCENT_ONLY.has(name));

describe('loadAwsConfig', () => {
  it('reads the bucket, region and push endpoint, with the chat settings read as on Tencent', () => {
    const config = loadAwsConfig({ ...base, PUSH_BUDGET_MS: '15000', AUTH_SECRET: 's', PUBLISH_TOKEN: '' });
    expect(config.s3).toEqual({
      bucket: 'wschat-bucket',
      region: 'eu-west-1',
      keyPrefix: 'wschat/',
      timeoutMs: 5000,
    });
    expect(config.push).toMatchObject({
      endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
      region: 'eu-west-1',
      budgetMs: 15000,
      concurrency: 48,
    });
    expect(config.authSecret).toBe('s');
    // serverless.yml sets an empty PUBLISH_TOKEN when none is given: the API stays closed.
    expect(config.publishToken).toBeUndefined();
    expect(config.localCredentials).toBe(false);
    expect(loadAwsConfig({ ...base, S3_ENDPOINT: 'http://127.0.0.1:1/_cos' }).localCredentials).toBe(true);
  });

  it('names the missing or malformed variable', () => {
    expect(() => loadAwsConfig({ ...base, S3_BUCKET: '' })).toThrow('Missing environment variable S3_BUCKET');
    expect(() => loadAwsConfig({ ...base, PUSH_ENDPOINT: 'wss://x' })).toThrow('PUSH_ENDPOINT');
    expect(() => loadAwsConfig({ ...base, S3_KEY_PREFIX: '/abs' })).toThrow('S3_KEY_PREFIX');
  });

  it('reads exactly the chat variables and AWS_FUNCTION_ENV_VARS, and serverless.yml sets nothing else', () => {
    const read = new Set<string>();
    loadAwsConfig(
      new Proxy({ ...base, S3_ENDPOINT: 'http://127.0.0.1:1/_cos' } as Record<string, string | undefined>, {
        get(target, name: string) {
          read.add(name);
          return target[name];
        },
      }),
    );
    expect([...read].sort()).toEqual([...CHAT_VARS, ...AWS_FUNCTION_ENV_VARS].sort());
    const stack = parse(readFileSync(path.join(__dirname, '../../../serverless.yml'), 'utf8'), {
      customTags: [
        { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
        { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value }) },
        { tag: '!Sub', resolve: (value: string) => ({ 'Fn::Sub': value }) },
      ],
    }) as { provider: { environment: Record<string, unknown> } };
    const known = new Set<string>([...read, 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);
    for (const name of Object.keys(stack.provider.environment)) expect(known).toContain(name);
    // AWS_REGION is Lambda's own (reserved); the rest the file must set.
    for (const name of ['S3_BUCKET', 'S3_KEY_PREFIX', 'PUSH_ENDPOINT'])
      expect(stack.provider.environment).toHaveProperty(name);
  });
});
