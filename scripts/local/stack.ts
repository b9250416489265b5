import { randomBytes } from 'crypto';
import path from 'path';
import { loadLimits } from '../../code/config';
import { clientLimits } from '../../code/chat/client-limits';
import { loadGatewayBase, type GatewayConfig } from '../../code/gateway/config';
import { startGateway, type RunningGateway } from '../../code/gateway/gateway';
import type { Hub } from '../../code/gateway/hub';
import { createGatewayLog } from '../../code/gateway/log';
import type { Logger } from '../../code/chat/log';
import type { CosServer } from './cos-server';
import { LOCAL_BUCKET, serveLocalCos } from './cos-process';
import { startBundleContainer, type BundleContainer } from './bundle-container';
import { createDevPushHook, type PushFault, type PushStats } from './dev-push-hook';
import { createLocalInvoker, type ScfFunction } from './local-invoker';
import { LOCAL_PLATFORMS, type Slot as FunctionName } from './platforms';
import type { Platform } from '../../code/gateway/platform';

/**
 * `npm start`: the production gateway (code/gateway) in dev mode, the handlers it calls running in this process
 * (or as bundles), a COS-compatible server the real SDK talks to, and the page. Three listeners, and only one of
 * them public: the page, `/ws`, `/publish` and `/token` on PORT; the push listener and the COS server on loopback
 * ports of their own, as they would be private in the cloud.
 */

export interface LocalStackOptions {
  /**
   * Whose shape the stack takes: Tencent's (`npm start`: SCF events, signed POST /push, COS) or AWS's
   * (`npm run start:aws`: API Gateway WebSocket events, /@connections, S3). Tencent unless set.
   */
  platform?: Platform;
  port?: number;
  host?: string;
  /** Where the local COS store keeps its objects; in memory when omitted. */
  dataDir?: string;
  /** Static files of the web client (the built dist/web); no page is served when omitted. */
  webDir?: string;
  /** Extra environment for the functions (limits, AUTH_SECRET, PUBLISH_TOKEN, ...). */
  env?: Record<string, string | undefined>;
  /** Gateway settings (GATEWAY_* variables: limits, origins, log level); see docs/gateway.md. */
  gatewayEnv?: Record<string, string | undefined>;
  idleTimeoutMs?: number;
  functionTimeoutMs?: number;
  /** Run the sweep function this often; never when 0. */
  sweepIntervalMs?: number;
  /** Seconds between client heartbeats, announced to the web client in /config.json. */
  heartbeatSeconds?: number;
  /**
   * Run the built bundles (dist/functions/<name>/index.js, from this folder) in child processes, one per
   * function, instead of the TypeScript modules in this process: slower to start, closest to SCF.
   */
  bundlesDir?: string;
  /** Wraps each function as the gateway sees it, so tests can make one fail or stall. */
  wrapFunction?: (name: 'register' | 'transport' | 'cleanup', fn: ScfFunction) => ScfFunction;
  /** Receives every gateway log line and handler log line; silent when omitted. */
  log?: (line: string) => void;
}

/** The dev stack's view of its gateway: the production hub plus the dev push hooks. */
export interface LocalGateway {
  hub: Hub;
  connectionIds(): string[];
  /** Drops a connection as a network failure would. */
  drop(connectionId: string): boolean;
  addVirtualConnections(ids: string[]): void;
  setPushLatency(ms: number): void;
  injectPushFault(fault: PushFault): void;
  clearPushFaults(): void;
  pushStats(): PushStats;
  resetPushStats(): void;
  /** Resolves once no invocation runs and no cleanup waits. */
  settled(): Promise<void>;
}

/** The stack without a COS server of its own: its functions use one running elsewhere (startStackOnCos). */
export interface StackOnCos {
  url: string;
  wsUrl: string;
  pushUrl: string;
  cosEndpoint: string;
  bucket: string;
  gateway: LocalGateway;
  running: RunningGateway;
  /** The environment the functions run with. */
  env: Record<string, string>;
  /** Runs the sweep function once, as its timer trigger would. */
  sweep(): Promise<unknown>;
  close(): Promise<void>;
}

export interface LocalStack extends StackOnCos {
  /** The local COS server, in this process: its keys, request counts and faults are the tests' to read and set. */
  cos: CosServer;
}

function handlerLogger(name: string, write: (line: string) => void): Logger {
  const emit =
    (level: string) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      const details = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      write(
        `${level === 'info' ? '' : `${level.toUpperCase()} `}${name.padEnd(9)} ${event} ${details}`.trimEnd(),
      );
    };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

function defined(env: Record<string, string | undefined> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** The stack with its local COS server in this process (`npm start`, the tests). */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const served = await serveLocalCos({ dataDir: options.dataDir });
  let stack: StackOnCos;
  try {
    stack = await startStackOnCos(options, served.endpoint);
  } catch (error) {
    await served.close();
    throw error;
  }
  return {
    ...stack,
    cos: served.cos,
    async close() {
      await stack.close();
      await served.close();
    },
  };
}

/**
 * The stack, its functions pointed at the local COS server at `cosEndpoint` (the bench's room formation runs that
 * server in a process of its own: see cos-process.ts). `options.dataDir` is that server's business, not read here.
 */
export async function startStackOnCos(options: LocalStackOptions, cosEndpoint: string): Promise<StackOnCos> {
  const host = options.host ?? '127.0.0.1';
  const platform = LOCAL_PLATFORMS[options.platform ?? 'tencent'];
  // The AWS SDK's one-time notice that its 2027 releases need Node 22 (ours is pinned) is noise in a dev log.
  if (platform.name === 'aws') process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const write = options.log ?? (() => undefined);
  const gatewayEnv = defined(options.gatewayEnv);
  const base = loadGatewayBase({
    GATEWAY_NODE_ID: 'local',
    GATEWAY_LOG_LEVEL: 'info',
    // Locally every client is 127.0.0.1, so per-address limits would only throttle you; set them to try them.
    GATEWAY_MAX_CONNECTIONS_PER_IP: '1000000',
    GATEWAY_REQUESTS_PER_SECOND_PER_IP: '1000000',
    GATEWAY_REQUEST_BURST_PER_IP: '1000000',
    ...gatewayEnv,
  });
  const config: GatewayConfig = {
    ...base,
    platform: platform.name,
    publicHost: host,
    publicPort: options.port ?? 3000,
    pushHost: '127.0.0.1',
    pushPort: 0,
    webDir: options.webDir,
    // A fresh secret per start: the dev stack signs pushes and would sign invocations exactly as production does.
    secret: randomBytes(32).toString('base64url'),
    limits: {
      ...base.limits,
      ...(options.idleTimeoutMs !== undefined && !gatewayEnv.GATEWAY_IDLE_TIMEOUT_SECONDS
        ? { idleTimeoutMs: options.idleTimeoutMs }
        : {}),
      ...(options.functionTimeoutMs !== undefined ? { functionTimeoutMs: options.functionTimeoutMs } : {}),
    },
  };

  // The push listener's port is known only once it listens; the functions need it, so they are wired lazily.
  const functions: Partial<Record<FunctionName, ScfFunction>> = {};
  const hooks = createDevPushHook();
  const heartbeatSeconds =
    options.heartbeatSeconds ?? Math.max(5, Math.floor(config.limits.idleTimeoutMs / 1000 / 3));
  const running = await startGateway({
    config,
    invoker: createLocalInvoker(
      {
        register: (e, c) => functions.register!(e, c),
        transport: (e, c) => functions.transport!(e, c),
        cleanup: (e, c) => functions.cleanup!(e, c),
        publish: (e, c) => functions.publish!(e, c),
      },
      // Bundles answer from their own processes, through JSON already.
      { copy: !options.bundlesDir },
    ),
    log: createGatewayLog(config.logLevel, (line) => write(`gateway   ${line.slice(25)}`)),
    onEvent: hooks.observe,
    pushHook: hooks.hook,
    publish: true,
    webConfig: () => ({
      wsUrl: '/ws',
      heartbeatSeconds,
      authRequired: Boolean(options.env?.AUTH_SECRET),
      // Read when the page asks, from the functions' environment (set below, before anything can ask).
      limits: clientLimits(loadLimits(env)),
    }),
  });

  const env: Record<string, string> = {
    ...platform.env({ bucket: LOCAL_BUCKET, endpoint: cosEndpoint }, running.pushUrl, config.secret),
    ...defined(options.env),
  };
  const bundles: BundleContainer[] = [];
  /** Each function as the cloud would run it: a bundle in its own process, or the same modules in this one. */
  const inProcess = options.bundlesDir
    ? undefined
    : platform.handlers(env, (name) => handlerLogger(name, write));
  function scf(name: FunctionName): ScfFunction {
    if (inProcess) return inProcess[name];
    const bundle = path.join(options.bundlesDir!, '..', platform.bundle[name], 'index.js');
    const container = startBundleContainer(bundle, env, write);
    bundles.push(container);
    return container.invoke;
  }
  const wrap = (name: 'register' | 'transport' | 'cleanup', fn: ScfFunction) =>
    options.wrapFunction ? options.wrapFunction(name, fn) : fn;
  functions.register = wrap('register', scf('register'));
  functions.transport = wrap('transport', scf('transport'));
  functions.cleanup = wrap('cleanup', scf('cleanup'));
  functions.publish = scf('publish');
  const sweepHandler = scf('sweep');
  const sweep = () => sweepHandler(platform.timerEvent(new Date()), {});

  const sweepTimer =
    options.sweepIntervalMs && options.sweepIntervalMs > 0
      ? setInterval(
          () => void sweep().catch((error: unknown) => write(`sweep failed: ${String(error)}`)),
          options.sweepIntervalMs,
        )
      : undefined;
  sweepTimer?.unref();

  const { hub } = running;
  return {
    url: running.publicUrl,
    wsUrl: running.wsUrl,
    pushUrl: running.pushUrl,
    cosEndpoint,
    bucket: LOCAL_BUCKET,
    running,
    gateway: {
      hub,
      connectionIds: () => hub.connectionIds(),
      drop: (id) => hub.drop(id),
      addVirtualConnections: hooks.addVirtualConnections,
      setPushLatency: hooks.setPushLatency,
      injectPushFault: hooks.injectPushFault,
      clearPushFaults: hooks.clearPushFaults,
      pushStats: hooks.pushStats,
      resetPushStats: hooks.resetPushStats,
      settled: () => hub.settled(),
    },
    env,
    sweep,
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      await running.stop();
      await Promise.all(bundles.map((b) => b.close()));
    },
  };
}
