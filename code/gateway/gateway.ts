import type http from 'http';
import type { AddressInfo } from 'net';
import type { GatewayConfig } from './config';
import { createHub, type GatewayEvent, type Hub } from './hub';
import type { Invoker } from './invoker';
import { createGatewayLog, type GatewayLog } from './log';
import { createMetrics, type Metrics } from './metrics';
import { createPublicListener } from './public-listener';
import { createPushListener, type PushHook } from './push-listener';
import { createSseEndpoint } from './sse';

/** One gateway node: the hub and its two listeners, started and stopped together. */

export interface GatewayOptions {
  config: GatewayConfig;
  invoker: Invoker;
  log?: GatewayLog;
  onEvent?: (event: GatewayEvent) => void;
  /** Dev stack only. */
  pushHook?: PushHook;
  webConfig?: () => Record<string, unknown>;
  /** Whether /publish and /token are routed (defaults to whether a publish URL is configured). */
  publish?: boolean;
}

export interface RunningGateway {
  hub: Hub;
  metrics: Metrics;
  publicUrl: string;
  wsUrl: string;
  pushUrl: string;
  publicPort: number;
  pushPort: number;
  /** SIGTERM: drain, then close the listeners. */
  stop(): Promise<void>;
  /** A crash drill: sockets cut, listeners closed, no cleanup. */
  kill(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, invoker } = options;
  const log = options.log ?? createGatewayLog(config.logLevel);
  const metrics = createMetrics();
  const hub = createHub({ config, invoker, log, metrics, onEvent: options.onEvent });
  const sse = createSseEndpoint({ hub, log, metrics });
  const publicServer = createPublicListener({
    hub,
    log,
    metrics,
    sse,
    publish: options.publish ?? config.functionUrls?.publish !== undefined,
    webConfig: options.webConfig,
  });
  const pushServer = createPushListener({ hub, log, metrics, hook: options.pushHook, sse });
  const pushPort = await listen(pushServer, config.pushPort, config.pushHost);
  let publicPort: number;
  try {
    publicPort = await listen(publicServer, config.publicPort, config.publicHost);
  } catch (error) {
    await closeServer(pushServer);
    throw error;
  }
  const publicHost = hostForUrl(config.publicHost);
  log.info('listening', {
    node: config.nodeId,
    public: `${config.publicHost}:${publicPort}`,
    push: `${config.pushHost}:${pushPort}`,
  });
  let stopped = false;
  const closeAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([closeServer(publicServer), closeServer(pushServer)]);
    await invoker.close();
  };
  return {
    hub,
    metrics,
    publicUrl: `http://${publicHost}:${publicPort}/`,
    wsUrl: `ws://${publicHost}:${publicPort}/ws`,
    pushUrl: `http://${hostForUrl(config.pushHost)}:${pushPort}/push`,
    publicPort,
    pushPort,
    async stop() {
      log.info('draining', { connections: hub.connectionCount() });
      await hub.drain();
      await closeAll();
      log.info('stopped');
    },
    async kill() {
      hub.kill();
      await closeAll();
    },
  };
}
