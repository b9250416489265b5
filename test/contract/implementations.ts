import { createObjectStore, type ObjectStore } from '../../code/cos/object-store';
import { createS3Client, createS3ObjectStore } from '../../code/cos/s3-object-store';
import { createCosHistory } from '../../code/history/cos-history';
import type { HistoryStore } from '../../code/history/history';
import { createCosRegistry } from '../../code/registry/cos-registry';
import type { ConnectionRegistry } from '../../code/registry/registry';
import { MemoryHistory, MemoryRegistry } from '../helpers/fakes';
import { startCos, type LocalCos } from '../helpers/local-cos';

/**
 * The implementations a contract suite runs against: the in-memory fakes the unit tests use, and the real ports
 * (the COS store's client over HTTP against the local COS server, and @aws-sdk/client-s3 against the same server).
 * Each test gets fresh, empty stores.
 */
export interface Implementation {
  name: string;
  /** Starts what the implementation needs (the COS server); call in beforeAll. */
  start(): Promise<void>;
  /** Stops it; call in afterAll. */
  stop(): Promise<void>;
  registry(): ConnectionRegistry;
  history(retention: { limit: number; maxAgeMs: number }, clock: () => number): HistoryStore;
}

function memory(): Implementation {
  return {
    name: 'in memory (test/helpers/fakes.ts)',
    start: async () => undefined,
    stop: async () => undefined,
    registry: () => new MemoryRegistry(),
    history: (retention, clock) => new MemoryHistory(retention, clock),
  };
}

/** A store-backed implementation: the real registry and history over an object store on the local server. */
function onLocalServer(
  name: string,
  open: (local: LocalCos, keyPrefix: string) => ObjectStore,
): Implementation {
  let local: LocalCos | undefined;
  let stores = 0;
  // A key prefix per store: each test starts empty without restarting the server.
  const store = () => {
    if (!local) throw new Error(`start() the ${name} implementation first`);
    stores += 1;
    return open(local, `contract-${stores}/`);
  };
  return {
    name,
    async start() {
      local = await startCos();
    },
    async stop() {
      await local?.close();
    },
    registry: () => createCosRegistry(store()),
    history: (retention, clock) => createCosHistory(store(), retention, clock),
  };
}

const cos = () =>
  onLocalServer('COS (cos-http.ts, local COS server)', (local, keyPrefix) =>
    createObjectStore({ ...local.settings, keyPrefix }),
  );

/** The S3 store (code/cos/s3-object-store.ts): the real @aws-sdk/client-s3 against the same local server. */
const s3 = () =>
  onLocalServer('S3 (real @aws-sdk/client-s3, local server)', (local, keyPrefix) => {
    const settings = {
      bucket: local.settings.bucket,
      region: 'us-east-1',
      endpoint: local.settings.endpoint,
      keyPrefix,
      timeoutMs: 3000,
    };
    return createS3ObjectStore(settings, createS3Client(settings, true));
  });

export const implementations = (): Implementation[] => [memory(), cos(), s3()];

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}
