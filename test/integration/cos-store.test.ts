import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { createObjectStore, StoreError, type ObjectStore } from '../../code/cos/object-store';
import { createCosRegistry } from '../../code/registry/cos-registry';
import { createCosHistory } from '../../code/history/cos-history';
import { createMessageIdSource } from '../../code/chat/message-id';

/** The functions' COS store over HTTP against the local COS server (its requests are the SDK's: cos-http.test.ts). */

import { BUCKET, startCos as startLocalCos, type LocalCos } from '../helpers/local-cos';

async function all<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}

const idOf = (i: number) => Buffer.from(`conn-${i}`).toString('base64'); // contains '=' for many i

describe('COS registry over HTTP', () => {
  let dataDir: string;
  const running: LocalCos[] = [];
  /** A local COS server that afterEach closes, whether the test passed or not. */
  const startCos = async (dir?: string) => {
    const local = await startLocalCos(dir);
    running.push(local);
    return local;
  };
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cos-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((local) => local.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists every member of a room across pages (2,500 connections, 3 pages) and nothing outside the prefix', async () => {
    const local = await startCos();
    const store = createObjectStore(local.settings);
    const registry = createCosRegistry(store);
    const ids = Array.from({ length: 2500 }, (_, i) => idOf(i)).concat(['ab/cd+ef==', '/leading+slash']);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((id) => registry.add({ id, room: 'big', nick: 'n', connectedAt: 1 })),
      );
    }
    await registry.add({ id: 'elsewhere=', room: 'small', nick: 'n', connectedAt: 1 });
    await store.put('../not-ours', '{}'); // other data in the same prefix tree must not confuse the listing
    local.cos.resetStats();
    const members = await all(registry.members('big'));
    expect(members.map((m) => m.id).sort()).toEqual([...ids].sort());
    expect(local.cos.stats().list).toBe(3);
    expect(await registry.find('/leading+slash')).toMatchObject({ room: 'big' });
  }, 60_000);

  it('removes records and memberships, and deleting twice is fine', async () => {
    const local = await startCos();
    const registry = createCosRegistry(createObjectStore(local.settings));
    await registry.add({ id: 'a+b/c=', room: 'r', nick: 'n', connectedAt: 1 });
    await registry.remove([{ id: 'a+b/c=', room: 'r' }]);
    await registry.remove([{ id: 'a+b/c=', room: 'r' }]);
    expect(await registry.find('a+b/c=')).toBeUndefined();
    expect(await all(registry.members('r'))).toEqual([]);
    // Only the room's log is left (the join and the leaves), for the sweep to trim once nobody needs it.
    expect(local.cos.keys(BUCKET).filter((k) => !k.startsWith('app/rlog/r/'))).toEqual([]);
  });

  it('takes back what a failed add wrote: no membership is left without its record', async () => {
    const local = await startCos();
    const registry = createCosRegistry(createObjectStore(local.settings));
    // One of the three writes is refused (403 is not retried); the other two land.
    local.cos.injectFault({ operation: 'put', status: 403, times: 1 });
    await expect(registry.add({ id: 'half=', room: 'r', nick: 'n', connectedAt: 1 })).rejects.toBeInstanceOf(
      StoreError,
    );
    expect(local.cos.stats().put).toBeGreaterThanOrEqual(3);
    expect(await registry.find('half=')).toBeUndefined();
    expect(await all(registry.members('r'))).toEqual([]);
    expect(local.cos.keys(BUCKET).filter((k) => !k.startsWith('app/rlog/r/'))).toEqual([]);
  });

  it('keeps the data across a restart of the store', async () => {
    const first = await startCos(dataDir);
    const registry = createCosRegistry(createObjectStore(first.settings));
    await registry.add({ id: 'persist=', room: 'r', nick: '小明', connectedAt: 42 });
    await registry.add({ id: 'gone=', room: 'r', nick: 'x', connectedAt: 1 });
    await registry.remove([{ id: 'gone=', room: 'r' }]);
    await first.close();

    const second = await startCos(dataDir);
    const again = createCosRegistry(createObjectStore(second.settings));
    expect(await again.find('persist=')).toEqual({
      id: 'persist=',
      room: 'r',
      nick: '小明',
      connectedAt: 42,
    });
    expect((await all(again.members('r'))).map((m) => m.id)).toEqual(['persist=']);
  });

  it('turns COS faults into StoreError after the client’s retries, and a slow store into a timeout', async () => {
    const local = await startCos();
    const store: ObjectStore = createObjectStore({ ...local.settings, timeoutMs: 500 });
    local.cos.injectFault({ operation: 'put', status: 503 });
    await expect(store.put('k', 'v')).rejects.toBeInstanceOf(StoreError);
    expect(local.cos.stats().put).toBe(4); // 4 tries on 5xx, as the SDK
    local.cos.clearFaults();
    local.cos.injectFault({ operation: 'list', delayMs: 2000 });
    await expect(store.list('x/')).rejects.toThrow('timed out after 500 ms');
    local.cos.clearFaults();
    await expect(store.get('missing')).resolves.toBeUndefined();
  });

  it('keeps the last messages of a room newest-last, bounded by count, and trims the rest', async () => {
    const local = await startCos();
    const store = createObjectStore(local.settings);
    const history = createCosHistory(store, { limit: 3, maxAgeMs: 60_000 });
    const now = Date.now();
    const ids = createMessageIdSource(() => 'aaaa');
    for (let i = 0; i < 5; i += 1) {
      await history.append({
        id: ids.next(now + i),
        room: 'r',
        from: 'a',
        tag: 't',
        text: `m${i}`,
        ts: now + i,
      });
    }
    const page = await history.recent('r', { limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
    expect(page.more).toBe(true);
    const since = await history.recent('r', { since: page.messages[0]!.id, limit: 10 });
    expect(since).toMatchObject({ messages: [{ text: 'm3' }, { text: 'm4' }], more: false });
    const firstOfTwo = await history.recent('r', { since: page.messages[0]!.id, limit: 1 });
    expect(firstOfTwo).toMatchObject({ messages: [{ text: 'm3' }], more: true });
    expect(await history.trim()).toBe(2);
    expect(local.cos.keys(BUCKET, 'app/hist/')).toHaveLength(3);
  });
});
