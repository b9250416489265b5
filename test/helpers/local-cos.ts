import http from 'http';
import type { AddressInfo } from 'net';
import { createCosServer, type CosServer } from '../../scripts/local/cos-server';
import type { CosSettings } from '../../code/config';

export const BUCKET = 'test-1250000000';

export interface LocalCos {
  cos: CosServer;
  settings: CosSettings;
  /** The environment the functions need to reach this store. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The local COS server on a free port, for the real SDK to talk to over HTTP. */
export async function startCos(dataDir?: string): Promise<LocalCos> {
  const cos = createCosServer({ dataDir, buckets: [BUCKET], mountPath: '/_cos' });
  const server = http.createServer((req, res) => {
    if (!cos.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    cos,
    settings: {
      bucket: BUCKET,
      region: 'ap-guangzhou',
      endpoint: `http://127.0.0.1:${port}/_cos`,
      keyPrefix: 'app/',
      secretId: 'local',
      secretKey: 'local',
      timeoutMs: 3000,
    },
    env: {
      COS_BUCKET: BUCKET,
      COS_REGION: 'ap-guangzhou',
      COS_ENDPOINT: `http://127.0.0.1:${port}/_cos`,
      COS_KEY_PREFIX: 'app/',
      GATEWAY_SECRET: 'local-cos-helper-gateway-secret-0123456789',
    },
    /** Idempotent, so a test may stop the store itself and still leave it to afterEach. */
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cos.flush();
    },
  };
}
