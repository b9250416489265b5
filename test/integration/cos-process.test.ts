import path from 'path';
import { createObjectStore } from '../../code/cos/object-store';
import { forkCosProcess, LOCAL_BUCKET, type CosProcess } from '../../scripts/local/cos-process';

/**
 * The local COS server in a process of its own, as the bench's room formation runs it (the bench's own bundle,
 * built by `npm test` before jest): the real COS client talks to it, and its request counts cross back.
 */

const BENCH_BUNDLE = path.join(__dirname, '../../dist/tools/bench.js');

let cos: CosProcess;
beforeAll(async () => {
  cos = await forkCosProcess(BENCH_BUNDLE);
});
afterAll(() => cos.close());

it('serves the real COS client and counts its requests across the process boundary', async () => {
  const store = createObjectStore({
    bucket: LOCAL_BUCKET,
    region: 'ap-guangzhou',
    endpoint: cos.endpoint,
    keyPrefix: 'apart/',
    secretId: 'local',
    secretKey: 'local',
    timeoutMs: 3000,
  });
  await store.put('conn/a', '{"room":"lobby"}');
  await store.put('conn/b', '{"room":"lobby"}');
  expect(await store.get('conn/a')).toBe('{"room":"lobby"}');
  expect((await store.list('conn/')).objects.map((o) => o.key)).toEqual(['conn/a', 'conn/b']);
  expect(await cos.stats()).toEqual({ put: 2, get: 1, head: 0, delete: 0, list: 1, multiDelete: 0 });
  await cos.resetStats();
  expect(Object.values(await cos.stats()).every((n) => n === 0)).toBe(true);
});

it('ends with its parent’s close', async () => {
  const other = await forkCosProcess(BENCH_BUNDLE);
  await other.close();
  const store = createObjectStore({
    bucket: LOCAL_BUCKET,
    region: 'ap-guangzhou',
    endpoint: other.endpoint,
    keyPrefix: '',
    secretId: 'local',
    secretKey: 'local',
    timeoutMs: 1000,
  });
  await expect(store.get('anything')).rejects.toThrow();
});
