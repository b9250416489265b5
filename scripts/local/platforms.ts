import { loadConfig } from '../../code/config';
import { loadAwsConfig } from '../../code/config-aws';
import { buildScheduledEvent } from '../../code/aws/events';
import { buildTimerEvent } from '../../code/tencent/gateway';
import { createContainer } from '../../code/functions/container';
import { createRegisterHandler } from '../../code/functions/register';
import { createTransportHandler } from '../../code/functions/transport';
import { createCleanupHandler } from '../../code/functions/cleanup';
import { createPublishHandler } from '../../code/functions/publish';
import { createSweepHandler } from '../../code/functions/sweep';
import { createAwsContainer } from '../../code/functions/aws/shell';
import { createConnectHandler } from '../../code/functions/aws/connect';
import { createDefaultHandler } from '../../code/functions/aws/default';
import { createDisconnectHandler } from '../../code/functions/aws/disconnect';
import { createPublishHandler as createAwsPublishHandler } from '../../code/functions/aws/publish';
import { createSweepHandler as createAwsSweepHandler } from '../../code/functions/aws/sweep';
import type { Platform } from '../../code/gateway/platform';
import type { Logger } from '../../code/chat/log';
import type { ScfFunction } from './local-invoker';

/**
 * What differs between `npm start` (Tencent shape) and `npm run start:aws` (AWS shape) in the local stack: the
 * functions' environment, their handlers and built bundles, and the timer's event. The gateway's side is one
 * setting (GatewayConfig.platform); everything else in stack.ts is shared.
 */

/** The gateway's names for the functions it calls, plus the timer's. */
export type Slot = 'register' | 'transport' | 'cleanup' | 'publish' | 'sweep';

export interface LocalPlatform {
  name: Platform;
  /** Where each slot's built bundle is, under dist/ (the folder and function name). */
  bundle: Record<Slot, string>;
  env(store: { bucket: string; endpoint: string }, pushUrl: string, secret: string): Record<string, string>;
  /** The handlers of one container per slot, from the environment `env` returned (plus the user's). */
  handlers(env: Record<string, string>, log: (slot: Slot) => Logger): Record<Slot, ScfFunction>;
  timerEvent(now: Date): unknown;
}

const tencent: LocalPlatform = {
  name: 'tencent',
  bundle: {
    register: 'functions/register',
    transport: 'functions/transport',
    cleanup: 'functions/cleanup',
    publish: 'functions/publish',
    sweep: 'functions/sweep',
  },
  env: (store, pushUrl, secret) => ({
    COS_BUCKET: store.bucket,
    COS_REGION: 'ap-guangzhou',
    COS_ENDPOINT: store.endpoint,
    PUSH_URL: pushUrl,
    GATEWAY_SECRET: secret,
  }),
  handlers(env, log) {
    const config = loadConfig(env);
    const of = (slot: Slot) => {
      const container = createContainer(config, log(slot));
      return () => container;
    };
    return {
      register: createRegisterHandler(of('register')),
      transport: createTransportHandler(of('transport')),
      cleanup: createCleanupHandler(of('cleanup')),
      publish: createPublishHandler(of('publish')),
      sweep: createSweepHandler(of('sweep')),
    };
  },
  timerEvent: buildTimerEvent,
};

const aws: LocalPlatform = {
  name: 'aws',
  bundle: {
    register: 'aws/connect',
    transport: 'aws/default',
    cleanup: 'aws/disconnect',
    publish: 'aws/publish',
    sweep: 'aws/sweep',
  },
  // The management API lives at the push listener's root: the SDK appends /@connections/{id}.
  env: (store, pushUrl) => ({
    S3_BUCKET: store.bucket,
    AWS_REGION: 'us-east-1',
    S3_ENDPOINT: store.endpoint,
    PUSH_ENDPOINT: new URL('/', pushUrl).toString().replace(/\/$/, ''),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }),
  handlers(env, log) {
    const config = loadAwsConfig(env);
    const of = (slot: Slot) => {
      const container = createAwsContainer(config, log(slot));
      return () => container;
    };
    return {
      register: createConnectHandler(of('register')),
      transport: createDefaultHandler(of('transport')),
      cleanup: createDisconnectHandler(of('cleanup')),
      publish: createAwsPublishHandler(of('publish')),
      sweep: createAwsSweepHandler(of('sweep')),
    };
  },
  timerEvent: (now) => buildScheduledEvent(now),
};

export const LOCAL_PLATFORMS: Record<Platform, LocalPlatform> = { tencent, aws };
