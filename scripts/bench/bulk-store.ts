import http from 'http';
import type { ObjectStore } from '../../code/cos/object-store';

/**
 * An ObjectStore whose `put` is a bare keep-alive HTTP PUT to the local COS server, for registering thousands
 * of benchmark recipients through the real `createCosRegistry` (same keys, same bodies) in seconds rather than
 * minutes: the COS SDK spends a few milliseconds of CPU per request, in the same process as the stack.
 * Everything else goes to the SDK-backed store.
 */
export function createBulkPutStore(
  base: ObjectStore,
  cos: { endpoint: string; bucket: string; keyPrefix: string },
): ObjectStore & { close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const endpoint = new URL(cos.endpoint);
  const root = `${endpoint.pathname.replace(/\/+$/, '')}/${cos.bucket}/`;
  let requests = 0;

  function put(key: string, body: string): Promise<void> {
    requests += 1;
    const path = root + (cos.keyPrefix + key).split('/').map(encodeURIComponent).join('/');
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          path,
          method: 'PUT',
          agent,
          // The local server checks that a signature is present, not what it says.
          headers: {
            Authorization: 'bench',
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    put,
    putNew: (key, body) => base.putNew(key, body),
    get: (key) => base.get(key),
    list: (prefix, options) => base.list(prefix, options),
    listAll: (prefix, after) => base.listAll(prefix, after),
    deleteMany: (keys) => base.deleteMany(keys),
    get requestCount() {
      return base.requestCount + requests;
    },
    close: () => agent.destroy(),
  };
}
