import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import { promises as fs } from 'fs';
import { loadConfig } from '../../code/config';
import { createContainer, type Container } from '../../code/functions/container';
import { createRegisterHandler } from '../../code/functions/register';
import { createTransportHandler } from '../../code/functions/transport';
import { createCleanupHandler } from '../../code/functions/cleanup';
import { createPublishHandler } from '../../code/functions/publish';
import { createSweepHandler } from '../../code/functions/sweep';
import { buildHttpEvent, buildTimerEvent, type HttpResponse } from '../../code/tencent/gateway';
import type { Logger } from '../../code/chat/log';
import { createCosServer, type CosServer } from './cos-server';
import { createGateway, type Gateway, type GatewayEvent, type ScfFunction } from './gateway';
import { startBundleContainer, type BundleContainer } from './bundle-container';

type FunctionName = 'register' | 'transport' | 'cleanup' | 'publish' | 'sweep';

/**
 * The whole chat on one port: the web page at `/`, the WebSocket at `/ws`, the push URL at `/_push`, the COS
 * store at `/_cos`, the publish API at `/publish` and `/token`. The handlers are the same modules the SCF
 * bundles export; each function gets its own container, as separate SCF functions would.
 */

export interface LocalStackOptions {
  port?: number;
  host?: string;
  /** Where the local COS store keeps its objects; in memory when omitted. */
  dataDir?: string;
  /** Static files of the web client (the built dist/web); no page is served when omitted. */
  webDir?: string;
  /** Extra environment for the functions (limits, AUTH_SECRET, PUBLISH_TOKEN, ...). */
  env?: Record<string, string | undefined>;
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
  /** Receives every gateway event and handler log line; silent when omitted. */
  log?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  wsUrl: string;
  pushUrl: string;
  cosEndpoint: string;
  bucket: string;
  cos: CosServer;
  gateway: Gateway;
  /** The environment the functions run with. */
  env: Record<string, string>;
  /** Runs the sweep function once, as its timer trigger would. */
  sweep(): Promise<unknown>;
  close(): Promise<void>;
}

export const LOCAL_BUCKET = 'wschat-1250000000';
const LOCAL_REGION = 'ap-guangzhou';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

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

function describeGatewayEvent(event: GatewayEvent): string {
  return `gateway   ${event.kind} ${event.connectionId.slice(0, 8)}…${event.detail ? ` ${event.detail}` : ''}`;
}

async function serveStatic(webDir: string, pathname: string, res: http.ServerResponse): Promise<boolean> {
  const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
  const file = path.resolve(webDir, relative);
  if (!file.startsWith(path.resolve(webDir) + path.sep)) return false;
  try {
    const body = await fs.readFile(file);
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
    });
    res.end(body);
    return true;
  } catch {
    return false;
  }
}

function readRequestBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const write = options.log ?? (() => undefined);
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const heartbeatSeconds = options.heartbeatSeconds ?? Math.max(5, Math.floor(idleTimeoutMs / 1000 / 3));
  const cos = createCosServer({ dataDir: options.dataDir, buckets: [LOCAL_BUCKET], mountPath: '/_cos' });

  // Functions are created after listen(), once the port (and so the push URL) is known.
  const wired: { gateway?: Gateway; publish?: (event: unknown) => Promise<HttpResponse> } = {};

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://local');
    if (cos.handle(req, res)) return;
    if (pathname === '/_push' && wired.gateway) return wired.gateway.handlePush(req, res);
    if ((pathname === '/publish' || pathname === '/token') && wired.publish) {
      const run = wired.publish;
      void readRequestBody(req, 128 * 1024)
        .then((body) =>
          run(
            buildHttpEvent({
              method: req.method ?? 'GET',
              path: pathname,
              headers: Object.fromEntries(
                Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
              ),
              body,
            }),
          ),
        )
        .then((reply) => {
          res.writeHead(reply.statusCode, reply.headers);
          res.end(reply.body);
        })
        .catch(() => {
          res.writeHead(413);
          res.end();
        });
      return;
    }
    if (pathname === '/config.json') {
      const wsUrl = `ws://${req.headers.host ?? `${host}:${port}`}/ws`;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
      res.end(JSON.stringify({ wsUrl, heartbeatSeconds, authRequired: Boolean(options.env?.AUTH_SECRET) }));
      return;
    }
    const webDir = options.webDir;
    void (async () => {
      if (webDir && req.method === 'GET' && (await serveStatic(webDir, pathname, res))) return;
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    })();
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://${host}:${port}`;

  const env: Record<string, string> = {
    COS_BUCKET: LOCAL_BUCKET,
    COS_REGION: LOCAL_REGION,
    COS_ENDPOINT: `${base}/_cos`,
    PUSH_URL: `${base}/_push`,
    ...Object.fromEntries(
      Object.entries(options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  };
  const config = loadConfig(env);
  const containerFor = (name: string): (() => Container) => {
    const container = createContainer(config, handlerLogger(name, write));
    return () => container;
  };
  const bundles: BundleContainer[] = [];
  /** The function as SCF would run it: a bundle in its own process, or the same modules in this one. */
  function scf<T>(name: FunctionName, inProcess: (get: () => Container) => T): T | ScfFunction {
    if (!options.bundlesDir) return inProcess(containerFor(name));
    const container = startBundleContainer(path.join(options.bundlesDir, name, 'index.js'), env);
    bundles.push(container);
    return container.invoke;
  }

  const wrap = (name: 'register' | 'transport' | 'cleanup', fn: ScfFunction) =>
    options.wrapFunction ? options.wrapFunction(name, fn) : fn;
  const gateway = createGateway({
    functions: {
      register: wrap('register', scf('register', createRegisterHandler)),
      transport: wrap('transport', scf('transport', createTransportHandler)),
      cleanup: wrap('cleanup', scf('cleanup', createCleanupHandler)),
    },
    idleTimeoutMs,
    functionTimeoutMs: options.functionTimeoutMs ?? 30_000,
    onEvent: (event) => write(describeGatewayEvent(event)),
  });
  wired.gateway = gateway;
  wired.publish = scf('publish', createPublishHandler) as (event: unknown) => Promise<HttpResponse>;
  const sweepHandler = scf('sweep', createSweepHandler);
  const sweep = () => sweepHandler(buildTimerEvent(new Date()), {});

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://local').pathname === '/ws') gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });

  const sweepTimer =
    options.sweepIntervalMs && options.sweepIntervalMs > 0
      ? setInterval(
          () => void sweep().catch((error: unknown) => write(`sweep failed: ${String(error)}`)),
          options.sweepIntervalMs,
        )
      : undefined;
  sweepTimer?.unref();

  return {
    url: `${base}/`,
    wsUrl: `ws://${host}:${port}/ws`,
    pushUrl: env.PUSH_URL!,
    cosEndpoint: env.COS_ENDPOINT!,
    bucket: LOCAL_BUCKET,
    cos,
    gateway,
    env,
    sweep,
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      await gateway.close();
      await Promise.all(bundles.map((b) => b.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cos.flush();
    },
  };
}
