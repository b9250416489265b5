import { keyPrefixEnv, loadChatConfig, type ChatConfig, type PushSettings } from './config';
import { httpUrlEnv, integerEnv, readEnv, requiredEnv, type Env } from './util/env';

/**
 * The Lambda functions' configuration (docs/aws.md): the chat's own settings, read exactly as on Tencent
 * (code/config.ts), plus where the S3 bucket and the @connections endpoint are. No keys: the AWS SDK takes the
 * execution role's credentials from the Lambda environment, and refreshes them itself.
 */

export interface S3Settings {
  bucket: string;
  region: string;
  /** A local S3-compatible server (path-style); unset in AWS. */
  endpoint?: string;
  keyPrefix: string;
  timeoutMs: number;
}

export interface AwsPushSettings extends Omit<PushSettings, 'url' | 'secret'> {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: the SDK appends /@connections/{id}. */
  endpoint: string;
  region: string;
}

export type AwsConfig = Omit<ChatConfig, 'push'> & {
  s3: S3Settings;
  push: AwsPushSettings;
  /** Local runs only: fixed keys, so a developer's own AWS credentials never reach the local servers. */
  localCredentials: boolean;
};

/** The variables loadAwsConfig reads beyond the chat's own (FUNCTION_ENV_VARS minus the COS and push ones). */
export const AWS_FUNCTION_ENV_VARS = [
  'S3_BUCKET',
  'S3_KEY_PREFIX',
  'S3_ENDPOINT',
  'S3_TIMEOUT_MS',
  'AWS_REGION',
  'PUSH_ENDPOINT',
] as const;

export function loadAwsConfig(env: Env = process.env): AwsConfig {
  const chat = loadChatConfig(env);
  const region = requiredEnv(env, 'AWS_REGION', 'the region (Lambda sets it)');
  const endpoint = readEnv(env, 'S3_ENDPOINT');
  return {
    ...chat,
    s3: {
      bucket: requiredEnv(
        env,
        'S3_BUCKET',
        'the bucket that holds the registry and history (serverless.yml)',
      ),
      region,
      endpoint: endpoint === undefined ? undefined : httpUrlEnv('S3_ENDPOINT', endpoint),
      keyPrefix: keyPrefixEnv(env, 'S3_KEY_PREFIX'),
      timeoutMs: integerEnv(env, 'S3_TIMEOUT_MS', 5000, 100, 60000),
    },
    push: {
      ...chat.push,
      endpoint: httpUrlEnv(
        'PUSH_ENDPOINT',
        requiredEnv(
          env,
          'PUSH_ENDPOINT',
          'the WebSocket API stage URL, https://…/stage (serverless.yml sets it)',
        ),
      ).replace(/\/+$/, ''),
      region,
    },
    localCredentials: endpoint !== undefined,
  };
}
