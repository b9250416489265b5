import path from 'path';
import { startLocalStack } from './stack';
import { loadDotEnv } from '../load-env';
import { FUNCTION_ENV_VARS } from '../../code/config';
import { AWS_FUNCTION_ENV_VARS } from '../../code/config-aws';
import { GATEWAY_ENV_VARS } from '../../code/gateway/config';

/**
 * `npm start`: the local stack on one port; `npm run start:aws` (argument `aws`): the same in AWS's shape. Configuration comes from the environment (see .env.example);
 * everything the functions read (limits, AUTH_SECRET, PUBLISH_TOKEN, ...) is passed through.
 */

/**
 * The stack sets where COS and the push URL are, and the local store needs no keys (real ones in the shell stay
 * out of the local functions); everything else the functions read passes through.
 */
const SET_BY_THE_STACK = new Set([
  'COS_BUCKET',
  'COS_REGION',
  'COS_ENDPOINT',
  'PUSH_URL',
  'GATEWAY_SECRET',
  'COS_SECRET_ID',
  'COS_SECRET_KEY',
  'TENCENTCLOUD_SECRETID',
  'TENCENTCLOUD_SECRETKEY',
  'TENCENTCLOUD_SESSIONTOKEN',
  'S3_BUCKET',
  'S3_ENDPOINT',
  'AWS_REGION',
  'PUSH_ENDPOINT',
]);
const FUNCTION_ENV = [...FUNCTION_ENV_VARS, ...AWS_FUNCTION_ENV_VARS].filter(
  (name) => !SET_BY_THE_STACK.has(name),
);
/** Gateway limits, origins and log level; its ports, hosts and secret are the stack's. */
const GATEWAY_ENV = GATEWAY_ENV_VARS.map((v) => v.name).filter(
  (name) => !/^GATEWAY_(PORT|HOST|PUSH_PORT|PUSH_HOST|SECRET|INVOKER|WEB_DIR)$|_FUNCTION_URL$/.test(name),
);

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`${name} must be a number of seconds, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

function time(): string {
  return new Date().toTimeString().slice(0, 8);
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const envFile = loadDotEnv(root);
  const rawPort = process.env.PORT?.trim() || '3000';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    console.error(`PORT must be a port number from 0 to 65535, got "${rawPort}"`);
    process.exit(2);
  }
  const aws = process.argv[2] === 'aws';
  // Each shape keeps its own data: connection IDs and pushes of one mean nothing to the other.
  const dataDir = process.env.DATA_DIR ?? (aws ? '.data-aws' : '.data');
  const stack = await startLocalStack({
    platform: aws ? 'aws' : 'tencent',
    port,
    host: process.env.HOST ?? '127.0.0.1',
    dataDir: path.resolve(root, dataDir),
    webDir: path.join(root, 'dist', 'web'),
    // LOCAL_FUNCTIONS=bundles runs the built SCF bundles in child processes instead of the modules in-process.
    bundlesDir: process.env.LOCAL_FUNCTIONS === 'bundles' ? path.join(root, 'dist', 'functions') : undefined,
    env: Object.fromEntries(FUNCTION_ENV.map((name) => [name, process.env[name]])),
    gatewayEnv: Object.fromEntries(GATEWAY_ENV.map((name) => [name, process.env[name]])),
    idleTimeoutMs: seconds('IDLE_TIMEOUT_SECONDS', 600) * 1000,
    sweepIntervalMs: seconds('SWEEP_INTERVAL_SECONDS', 60) * 1000,
    log: (line) => console.log(`${time()} ${line}`),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      console.error(`Port ${port} is in use: set PORT to another port (PORT=3001 npm start).`);
    else console.error(error.message);
    process.exit(1);
  });
  console.log(`
  Chat        ${stack.url}          (open it in two tabs)
  WebSocket   ${stack.wsUrl}
  ${aws ? `@connections ${stack.pushUrl.replace(/\/push$/, '/@connections/{id}')}   (private: loopback only, the management API)` : `Push URL    ${stack.pushUrl}   (private: loopback only, signed pushes)`}
  Publish API POST ${stack.url}publish  ${process.env.PUBLISH_TOKEN ? '(Bearer $PUBLISH_TOKEN)' : '(set PUBLISH_TOKEN to enable)'}
  ${aws ? 'Local S3 ' : 'Local COS'}   ${stack.cosEndpoint}   (private: loopback only) bucket ${stack.bucket}, data in ${dataDir}/
  Settings    ${envFile ? `read from ${path.relative(process.cwd(), envFile) || envFile}` : 'from the environment (no .env file)'}
  Access      ${process.env.AUTH_SECRET ? 'signed tokens required (AUTH_SECRET is set)' : 'open: anyone who can reach the port can chat'}

  Ctrl-C to stop.
`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log(`${time()} stopping…`);
    stack.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
