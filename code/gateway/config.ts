import {
  ConfigError,
  choiceEnv,
  gatewaySecretEnv,
  httpUrlEnv,
  integerEnv,
  readEnv,
  requiredEnv,
  type Env,
} from '../util/env';
import type { Platform } from './platform';

/* Over 300 lines for one reason: GATEWAY_ENV_VARS, the documented list of every variable, lives here. */

/**
 * The gateway's configuration: environment only, validated once at start. `GATEWAY_ENV_VARS` is the one list of
 * variables (docs/gateway.md documents each; a test keeps the two in step, and the deploy sets them from it).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface GatewayLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Handshakes and /publish, /token requests per client address: each one costs an invocation. */
  requestsPerSecondPerIp: number;
  requestBurstPerIp: number;
  /** A client frame above this closes the socket with 1009 (ws does it before buffering the rest). */
  maxFrameBytes: number;
  /** Token bucket per connection: frames over the rate wait in the connection's queue. */
  framesPerSecond: number;
  frameBurst: number;
  /** Frames waiting for the rate or an invocation slot; one more closes the socket with 1008 (a flood). */
  maxQueuedFrames: number;
  /** Invocations of transport for one connection at a time; 1 keeps a client's frames in order. */
  maxInflightPerConnection: number;
  /** Invocations across all connections; the rest wait their turn. */
  maxInflight: number;
  /** Bytes queued for one client; a push beyond it closes that client as a slow reader (1008). */
  sendBufferBytes: number;
  maxBodyBytes: number;
  maxPushBodyBytes: number;
  idleTimeoutMs: number;
  pingIntervalMs: number;
  handshakeTimeoutMs: number;
  functionTimeoutMs: number;
  drainTimeoutMs: number;
  cleanupConcurrency: number;
  /** A comment line on every SSE stream this often, below any proxy's idle timeout. */
  sseKeepAliveMs: number;
}

export interface FunctionUrls {
  register: string;
  transport: string;
  cleanup: string;
  /** Optional: without it, /publish and /token answer 404. */
  publish?: string;
}

export interface GatewayConfig {
  /** The cloud whose function protocol the gateway speaks (platform.ts); Tencent unless set. */
  platform?: Platform;
  publicHost: string;
  publicPort: number;
  pushHost: string;
  pushPort: number;
  /** Signs invocations and verifies pushes. */
  secret: string;
  nodeId: string;
  /** Other nodes' push listeners, by node ID. */
  peers: Map<string, string>;
  /** When set, only pages from these origins may open a WebSocket. */
  allowedOrigins?: string[];
  /** Take the client address from X-Forwarded-For (only behind a load balancer that sets it). */
  trustProxy: boolean;
  webDir?: string;
  logLevel: LogLevel;
  functionUrls?: FunctionUrls;
  limits: GatewayLimits;
}

export interface EnvVarSpec {
  name: string;
  default: string;
  doc: string;
}

export const GATEWAY_ENV_VARS: readonly EnvVarSpec[] = [
  {
    name: 'GATEWAY_PORT',
    default: '8080',
    doc: 'public listener: WebSocket /ws, SSE /events, page /, /publish, /token, /healthz',
  },
  { name: 'GATEWAY_HOST', default: '0.0.0.0', doc: 'address of the public listener' },
  {
    name: 'GATEWAY_PUSH_PORT',
    default: '8081',
    doc: 'private push listener: POST /push, /metrics, /healthz',
  },
  {
    name: 'GATEWAY_PUSH_HOST',
    default: '127.0.0.1',
    doc: "address of the push listener: the host's private IP, never a public one",
  },
  {
    name: 'GATEWAY_SECRET',
    default: '(required)',
    doc: 'shared with the functions: signs invocations, verifies pushes; 32+ characters',
  },
  {
    name: 'GATEWAY_INVOKER',
    default: 'url',
    doc: 'how functions are called; `url` (function URLs) is the only production invoker',
  },
  { name: 'REGISTER_FUNCTION_URL', default: '(required)', doc: 'function URL of register' },
  { name: 'TRANSPORT_FUNCTION_URL', default: '(required)', doc: 'function URL of transport' },
  { name: 'CLEANUP_FUNCTION_URL', default: '(required)', doc: 'function URL of cleanup' },
  {
    name: 'PUBLISH_FUNCTION_URL',
    default: '(unset)',
    doc: 'function URL of publish; /publish and /token answer 404 without it',
  },
  {
    name: 'GATEWAY_NODE_ID',
    default: '(random)',
    doc: 'this node’s name, 1-16 letters or digits; part of every connection ID',
  },
  {
    name: 'GATEWAY_PEERS',
    default: '(none)',
    doc: 'other nodes: `id=http://private-ip:8081,...`; pushes for their connections are forwarded there',
  },
  {
    name: 'GATEWAY_ALLOWED_ORIGINS',
    default: '(any)',
    doc: 'comma-separated page origins allowed to open a WebSocket or an /events stream',
  },
  {
    name: 'GATEWAY_TRUST_PROXY',
    default: '0',
    doc: '1: the client address is the last X-Forwarded-For entry (behind a load balancer)',
  },
  { name: 'GATEWAY_WEB_DIR', default: '(none)', doc: 'serve the web client from this folder (dist/web)' },
  { name: 'GATEWAY_LOG_LEVEL', default: 'info', doc: 'debug (every frame and push), info, warn or error' },
  {
    name: 'GATEWAY_MAX_CONNECTIONS',
    default: '20000',
    doc: 'sockets held at once; more are refused with 503',
  },
  {
    name: 'GATEWAY_MAX_CONNECTIONS_PER_IP',
    default: '200',
    doc: 'sockets per client address; more are refused with 429',
  },
  {
    name: 'GATEWAY_MAX_FRAME_BYTES',
    default: '65536',
    doc: 'largest client frame; bigger closes the socket (1009)',
  },
  { name: 'GATEWAY_FRAMES_PER_SECOND', default: '20', doc: 'sustained frames per connection' },
  { name: 'GATEWAY_FRAME_BURST', default: '40', doc: 'frames a connection may send at once' },
  {
    name: 'GATEWAY_MAX_QUEUED_FRAMES',
    default: '64',
    doc: 'frames waiting per connection; one more closes it (1008, flood)',
  },
  {
    name: 'GATEWAY_MAX_INFLIGHT_PER_CONNECTION',
    default: '1',
    doc: 'transport invocations per connection at once (1 keeps order)',
  },
  {
    name: 'GATEWAY_MAX_INFLIGHT',
    default: '512',
    doc: 'function invocations at once across all connections',
  },
  {
    name: 'GATEWAY_SEND_BUFFER_BYTES',
    default: '1048576',
    doc: 'bytes queued for one client; beyond it the slow reader is closed',
  },
  { name: 'GATEWAY_MAX_BODY_BYTES', default: '65536', doc: 'largest /publish or /token body' },
  { name: 'GATEWAY_MAX_PUSH_BODY_BYTES', default: '1048576', doc: 'largest push body' },
  {
    name: 'GATEWAY_IDLE_TIMEOUT_SECONDS',
    default: '600',
    doc: 'a connection that sends nothing for this long is closed (1001)',
  },
  {
    name: 'GATEWAY_PING_SECONDS',
    default: '30',
    doc: 'WebSocket ping interval; a peer that misses one is dropped',
  },
  {
    name: 'GATEWAY_HANDSHAKE_TIMEOUT_MS',
    default: '10000',
    doc: 'register must answer within this; else 504',
  },
  {
    name: 'GATEWAY_FUNCTION_TIMEOUT_MS',
    default: '30000',
    doc: 'longest transport/cleanup/publish invocation',
  },
  {
    name: 'GATEWAY_DRAIN_TIMEOUT_MS',
    default: '30000',
    doc: 'on SIGTERM: how long running invocations may finish',
  },
  {
    name: 'GATEWAY_CLEANUP_CONCURRENCY',
    default: '16',
    doc: 'cleanup invocations at once (a mass disconnect queues)',
  },
  {
    name: 'GATEWAY_SSE_KEEPALIVE_SECONDS',
    default: '15',
    doc: 'a comment on every /events stream this often; keep it below every proxy’s idle timeout',
  },
];

const NODE_ID = /^[A-Za-z0-9]{1,16}$/;

export function randomNodeId(): string {
  return Math.random().toString(36).slice(2, 8) || 'node';
}

function parsePeers(raw: string | undefined): Map<string, string> {
  const peers = new Map<string, string>();
  for (const entry of (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const id = entry.slice(0, eq);
    if (eq < 1 || !NODE_ID.test(id))
      throw new ConfigError(`Environment variable GATEWAY_PEERS: "${entry}" is not id=http://host:port`);
    peers.set(id, httpUrlEnv('GATEWAY_PEERS', entry.slice(eq + 1)).replace(/\/+$/, ''));
  }
  return peers;
}

function port(env: Env, name: string, fallback: number): number {
  return integerEnv(env, name, fallback, 0, 65535);
}

export function loadLimits(env: Env): GatewayLimits {
  return {
    maxConnections: integerEnv(env, 'GATEWAY_MAX_CONNECTIONS', 20000, 1, 10_000_000),
    maxConnectionsPerIp: integerEnv(env, 'GATEWAY_MAX_CONNECTIONS_PER_IP', 200, 1, 10_000_000),
    requestsPerSecondPerIp: integerEnv(env, 'GATEWAY_REQUESTS_PER_SECOND_PER_IP', 10, 1, 1_000_000),
    requestBurstPerIp: integerEnv(env, 'GATEWAY_REQUEST_BURST_PER_IP', 30, 1, 1_000_000),
    maxFrameBytes: integerEnv(env, 'GATEWAY_MAX_FRAME_BYTES', 65536, 128, 6 * 1024 * 1024),
    framesPerSecond: integerEnv(env, 'GATEWAY_FRAMES_PER_SECOND', 20, 1, 100000),
    frameBurst: integerEnv(env, 'GATEWAY_FRAME_BURST', 40, 1, 100000),
    maxQueuedFrames: integerEnv(env, 'GATEWAY_MAX_QUEUED_FRAMES', 64, 1, 100000),
    maxInflightPerConnection: integerEnv(env, 'GATEWAY_MAX_INFLIGHT_PER_CONNECTION', 1, 1, 64),
    maxInflight: integerEnv(env, 'GATEWAY_MAX_INFLIGHT', 512, 1, 100000),
    sendBufferBytes: integerEnv(env, 'GATEWAY_SEND_BUFFER_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBodyBytes: integerEnv(env, 'GATEWAY_MAX_BODY_BYTES', 65536, 1024, 6 * 1024 * 1024),
    maxPushBodyBytes: integerEnv(env, 'GATEWAY_MAX_PUSH_BODY_BYTES', 1024 * 1024, 1024, 6 * 1024 * 1024),
    idleTimeoutMs: integerEnv(env, 'GATEWAY_IDLE_TIMEOUT_SECONDS', 600, 1, 7200) * 1000,
    pingIntervalMs: integerEnv(env, 'GATEWAY_PING_SECONDS', 30, 1, 3600) * 1000,
    handshakeTimeoutMs: integerEnv(env, 'GATEWAY_HANDSHAKE_TIMEOUT_MS', 10000, 100, 120000),
    functionTimeoutMs: integerEnv(env, 'GATEWAY_FUNCTION_TIMEOUT_MS', 30000, 100, 900000),
    drainTimeoutMs: integerEnv(env, 'GATEWAY_DRAIN_TIMEOUT_MS', 30000, 0, 900000),
    cleanupConcurrency: integerEnv(env, 'GATEWAY_CLEANUP_CONCURRENCY', 16, 1, 1024),
    sseKeepAliveMs: integerEnv(env, 'GATEWAY_SSE_KEEPALIVE_SECONDS', 15, 1, 3600) * 1000,
  };
}

/** Everything but the invoker: shared by the production entry and the dev stack. */
export function loadGatewayBase(env: Env): Omit<GatewayConfig, 'functionUrls' | 'secret'> {
  const nodeId = readEnv(env, 'GATEWAY_NODE_ID') ?? randomNodeId();
  if (!NODE_ID.test(nodeId))
    throw new ConfigError(
      `Environment variable GATEWAY_NODE_ID must be 1-16 letters or digits, got "${nodeId}"`,
    );
  const origins = readEnv(env, 'GATEWAY_ALLOWED_ORIGINS');
  const trust = readEnv(env, 'GATEWAY_TRUST_PROXY') ?? '0';
  if (trust !== '0' && trust !== '1')
    throw new ConfigError(`Environment variable GATEWAY_TRUST_PROXY must be 0 or 1, got "${trust}"`);
  return {
    publicHost: readEnv(env, 'GATEWAY_HOST') ?? '0.0.0.0',
    publicPort: port(env, 'GATEWAY_PORT', 8080),
    pushHost: readEnv(env, 'GATEWAY_PUSH_HOST') ?? '127.0.0.1',
    pushPort: port(env, 'GATEWAY_PUSH_PORT', 8081),
    nodeId,
    peers: parsePeers(readEnv(env, 'GATEWAY_PEERS')),
    allowedOrigins: origins
      ?.split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    trustProxy: trust === '1',
    webDir: readEnv(env, 'GATEWAY_WEB_DIR'),
    logLevel: choiceEnv(env, 'GATEWAY_LOG_LEVEL', LOG_LEVELS, 'info'),
    limits: loadLimits(env),
  };
}

/** The production gateway (`npm run gateway`): functions behind their URLs. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  choiceEnv(env, 'GATEWAY_INVOKER', ['url'] as const, 'url');
  const url = (name: string) =>
    httpUrlEnv(name, requiredEnv(env, name, 'the function URL the deploy created'));
  const publish = readEnv(env, 'PUBLISH_FUNCTION_URL');
  return {
    ...loadGatewayBase(env),
    secret: gatewaySecretEnv(env, 'a random string of 32+ characters shared with the functions'),
    functionUrls: {
      register: url('REGISTER_FUNCTION_URL'),
      transport: url('TRANSPORT_FUNCTION_URL'),
      cleanup: url('CLEANUP_FUNCTION_URL'),
      publish: publish === undefined ? undefined : httpUrlEnv('PUBLISH_FUNCTION_URL', publish),
    },
  };
}
