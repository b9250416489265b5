import { createLogger, type Logger } from '../../chat/log';
import { loadAwsConfig, type AwsConfig } from '../../config-aws';
import { createS3Client, createS3ObjectStore } from '../../cos/s3-object-store';
import { createAwsPushClient } from '../../push/aws-push-client';
import { tagKeyFrom } from '../../chat/identity';
import { assembleChat } from '../assemble';
import type { Container } from '../container';
import { containerOrLog, releaseEventLoop, stderrLog, type HandlerSpec } from '../shell';

/**
 * The shell around the five Lambda entries, as thin as the SCF one (../shell.ts): build the container once per
 * execution environment, answer "misconfigured" when configuration is invalid. No unwrapping: only API Gateway
 * and EventBridge invoke these functions, under the permissions serverless.yml grants.
 */

export type AwsContainer = Container<AwsConfig>;

export function createAwsContainer(config: AwsConfig, log: Logger = createLogger()): AwsContainer {
  const store = createS3ObjectStore(config.s3, createS3Client(config.s3, config.localCredentials));
  const push = createAwsPushClient(config.push, { localCredentials: config.localCredentials });
  // No gateway secret on AWS: identity tags are keyed by AUTH_SECRET or PUBLISH_TOKEN when one is set.
  const secret = config.authSecret ?? config.publishToken;
  const tagKey = secret === undefined ? undefined : tagKeyFrom(secret);
  const rosterOverlapMs = config.s3.timeoutMs + 1000;
  return { config, chat: assembleChat(store, push, config, log, { tagKey, rosterOverlapMs }), log };
}

let container: AwsContainer | undefined;

export function awsContainerFromEnv(): AwsContainer {
  container ??= createAwsContainer(loadAwsConfig(process.env));
  return container;
}

export type LambdaHandler<R> = (event: unknown, context?: unknown) => Promise<R>;

export function lambdaHandler<R>(
  getContainer: () => AwsContainer,
  spec: HandlerSpec<R, AwsContainer>,
  fallbackLog: Logger = stderrLog(),
): LambdaHandler<R> {
  return async (event, context) => {
    releaseEventLoop(context);
    const built = containerOrLog(getContainer, spec.name, fallbackLog);
    return 'error' in built ? spec.misconfigured(event, built.error) : spec.run(event, built.container);
  };
}
