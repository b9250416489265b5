import { serveLocalCos } from '../../scripts/local/cos-process';
import type { CosServer } from '../../scripts/local/cos-server';
import type { CosSettings } from '../../code/config';
import type { ChatMessage } from '../../code/chat/protocol';
import { createObjectStore, type ObjectStore } from '../../code/cos/object-store';

export const BUCKET = 'test-1250000000';

export interface LocalCos {
  cos: CosServer;
  settings: CosSettings;
  /** The environment the functions need to reach this store. */
  env: Record<string, string>;
  /** Idempotent, so a test may stop the store itself and still leave it to afterEach. */
  close(): Promise<void>;
}

/** The local COS server on a free port, for the real SDK to talk to over HTTP. */
export async function startCos(dataDir?: string): Promise<LocalCos> {
  const { cos, endpoint, close } = await serveLocalCos({ dataDir, bucket: BUCKET });
  return {
    cos,
    settings: {
      bucket: BUCKET,
      region: 'ap-guangzhou',
      endpoint,
      keyPrefix: 'app/',
      secretId: 'local',
      secretKey: 'local',
      timeoutMs: 3000,
    },
    env: {
      COS_BUCKET: BUCKET,
      COS_REGION: 'ap-guangzhou',
      COS_ENDPOINT: endpoint,
      COS_KEY_PREFIX: 'app/',
      GATEWAY_SECRET: 'local-cos-helper-gateway-secret-0123456789',
    },
    close,
  };
}

/**
 * One local COS server and an object store on it for the whole test file (started before all, closed after all),
 * read through getters because the hooks run after the file's top level.
 */
export function useLocalCosStore(): { readonly local: LocalCos; readonly store: ObjectStore } {
  let local: LocalCos | undefined;
  let store: ObjectStore | undefined;
  beforeAll(async () => {
    local = await startCos();
    store = createObjectStore(local.settings);
  });
  afterAll(() => local?.close());
  return {
    get local() {
      if (!local) throw new Error('useLocalCosStore: used before beforeAll ran');
      return local;
    },
    get store() {
      if (!store) throw new Error('useLocalCosStore: used before beforeAll ran');
      return store;
    },
  };
}

/** The i-th of a few messages posted in the last second, as history stores them. */
export function recentMessage(room: string, i: number, now: number): ChatMessage {
  const ts = now - 1000 + i;
  return { id: `${ts.toString(36)}0000${i}`, room, from: 'alice', tag: 'abcd', text: `m${i}`, ts };
}
