import { loadConfig } from '../../code/config';
import { createContainer } from '../../code/functions/container';
import { createRegisterHandler } from '../../code/functions/register';
import { createTransportHandler } from '../../code/functions/transport';
import { createCleanupHandler } from '../../code/functions/cleanup';
import { createPublishHandler } from '../../code/functions/publish';
import { loadGatewayBase, type GatewayConfig } from '../../code/gateway/config';
import { startGateway, type RunningGateway } from '../../code/gateway/gateway';
import type { Invoker } from '../../code/gateway/invoker';
import { createGatewayLog } from '../../code/gateway/log';
import { silentLogger } from '../../code/chat/log';
import { createLocalInvoker, type ScfFunction } from '../../scripts/local/local-invoker';
import { startCos, type LocalCos } from './local-cos';

/**
 * N gateway nodes on loopback in front of one set of functions and one local COS store, as N hosts behind a
 * load balancer would be. The functions push to node 1's push URL; nodes forward pushes to the node that holds
 * the connection. `invokerFor` swaps the in-process invoker for another (the function-URL one).
 */

export const CLUSTER_SECRET = 'cluster-test-gateway-secret-0123456789';

export interface Cluster {
  nodes: RunningGateway[];
  cos: LocalCos;
  env: Record<string, string>;
  log: string[];
  close(): Promise<void>;
}

export async function startCluster(
  count: number,
  options: {
    env?: Record<string, string>;
    invokerFor?: (
      functions: Record<'register' | 'transport' | 'cleanup' | 'publish', ScfFunction>,
    ) => Promise<Invoker>;
  } = {},
): Promise<Cluster> {
  const cos = await startCos();
  const log: string[] = [];
  const functions: Partial<Record<'register' | 'transport' | 'cleanup' | 'publish', ScfFunction>> = {};
  const lazy = {
    register: (e: unknown, c: unknown) => functions.register!(e, c),
    transport: (e: unknown, c: unknown) => functions.transport!(e, c),
    cleanup: (e: unknown, c: unknown) => functions.cleanup!(e, c),
    publish: (e: unknown, c: unknown) => functions.publish!(e, c),
  };
  const nodes: RunningGateway[] = [];
  for (let i = 1; i <= count; i += 1) {
    const base = loadGatewayBase({ GATEWAY_NODE_ID: `n${i}` });
    const config: GatewayConfig = {
      ...base,
      publicHost: '127.0.0.1',
      publicPort: 0,
      pushHost: '127.0.0.1',
      pushPort: 0,
      secret: CLUSTER_SECRET,
    };
    const invoker = options.invokerFor ? await options.invokerFor(lazy) : createLocalInvoker(lazy);
    nodes.push(
      await startGateway({
        config,
        invoker,
        publish: true,
        log: createGatewayLog('info', (line) => log.push(`n${i} ${line}`)),
      }),
    );
  }
  // Every node knows every other's push listener (the ports exist only now).
  for (const node of nodes) {
    for (const peer of nodes)
      if (peer !== node)
        node.hub.config.peers.set(peer.hub.config.nodeId, peer.pushUrl.replace(/\/push$/, ''));
  }
  const env = {
    ...cos.env,
    PUSH_URL: nodes[0]!.pushUrl,
    GATEWAY_SECRET: CLUSTER_SECRET,
    HANDSHAKE_GRACE_MS: '0',
    ...options.env,
  };
  const config = loadConfig(env);
  const container = () => createContainer(config, silentLogger);
  const register = container();
  const transport = container();
  const cleanup = container();
  const publish = container();
  functions.register = createRegisterHandler(() => register);
  functions.transport = createTransportHandler(() => transport);
  functions.cleanup = createCleanupHandler(() => cleanup);
  functions.publish = createPublishHandler(() => publish);
  return {
    nodes,
    cos,
    env,
    log,
    async close() {
      await Promise.all(nodes.map((n) => n.stop()));
      await cos.close();
    },
  };
}
