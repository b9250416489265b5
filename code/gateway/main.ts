import { ConfigError } from '../util/env';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';
import { createUrlInvoker } from './invoker';

/**
 * `npm run gateway` (dist/gateway/index.js): the production gateway. Environment only; docs/gateway.md lists it.
 * SIGTERM and SIGINT drain: clients are told 1001 and reconnect elsewhere, running invocations finish.
 */

async function main(): Promise<void> {
  let config;
  try {
    config = loadGatewayConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`gateway: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const gateway = await startGateway({
    config,
    invoker: createUrlInvoker(config.functionUrls!, config.secret, config.limits.maxInflight),
  }).catch((error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE' || error.code === 'EACCES'
        ? `gateway: cannot listen (${error.code}): check GATEWAY_PORT and GATEWAY_PUSH_PORT`
        : `gateway: ${error.message}`,
    );
    process.exit(1);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    gateway.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
