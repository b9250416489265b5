import { createCosHistory } from '../../code/history/cos-history';
import { recentMessage, useLocalCosStore } from '../helpers/local-cos';

/**
 * A warm container keeps message bodies it has read or written (by key and ETag), so a crowd joining an active
 * room costs one LIST per join, not a LIST and a page of GETs. The real SDK against the local COS server, which
 * counts the requests.
 */

const RETENTION = { limit: 100, maxAgeMs: 86_400_000 };

const cos = useLocalCosStore();

describe('history body cache', () => {
  it('a second read of the latest page costs one LIST and no GET, and returns the same messages', async () => {
    const now = Date.now();
    const writer = createCosHistory(cos.store, RETENTION);
    for (let i = 0; i < 20; i += 1) await writer.append(recentMessage('busy', i, now));

    const reader = createCosHistory(cos.store, RETENTION); // another container: nothing kept yet
    cos.local.cos.resetStats();
    const first = await reader.recent('busy', { limit: 50 });
    expect(cos.local.cos.stats()).toMatchObject({ list: 1, get: 20 });

    cos.local.cos.resetStats();
    const second = await reader.recent('busy', { limit: 50 });
    expect(cos.local.cos.stats()).toMatchObject({ list: 1, get: 0 });
    expect(second.messages).toEqual(first.messages);
    expect(second.messages.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('what a container wrote itself is read back without a GET', async () => {
    const now = Date.now();
    const history = createCosHistory(cos.store, RETENTION);
    for (let i = 0; i < 5; i += 1) await history.append(recentMessage('own', i, now));
    cos.local.cos.resetStats();
    const page = await history.recent('own', { limit: 50 });
    expect(page.messages).toHaveLength(5);
    expect(cos.local.cos.stats()).toMatchObject({ list: 1, get: 0 });
  });

  it('an object rewritten under the same key is read again (its ETag changed)', async () => {
    const now = Date.now();
    const history = createCosHistory(cos.store, RETENTION);
    const original = recentMessage('rewritten', 0, now);
    await history.append(original);
    expect((await history.recent('rewritten', { limit: 10 })).messages[0]?.text).toBe('m0');

    // Written by another container or by hand: same key, other body.
    const other = createCosHistory(cos.store, RETENTION);
    await other.append({ ...original, text: 'changed' });
    cos.local.cos.resetStats();
    const page = await history.recent('rewritten', { limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(['changed']);
    expect(cos.local.cos.stats()).toMatchObject({ list: 1, get: 1 });
  });
});
