import { createObjectStore } from '../../code/cos/object-store';
import { createCosHistory } from '../../code/history/cos-history';
import { createMessageIdSource } from '../../code/chat/message-id';
import { startCos, type LocalCos } from '../helpers/local-cos';

/**
 * What an `unread` count costs on COS (docs/protocol.md, "Unread counts"): one LIST per room, no GET, whatever
 * the count. The real SDK against the local COS server, counting the requests it sends.
 */

let local: LocalCos;
beforeAll(async () => {
  local = await startCos();
});
afterAll(() => local.close());

it('counts a room’s messages after a cursor with one request and reads none of them', async () => {
  const store = createObjectStore({ ...local.settings, keyPrefix: 'count-cost/' });
  const history = createCosHistory(store, { limit: 100, maxAgeMs: 86_400_000 });
  const ids = createMessageIdSource(() => '00000000');
  const now = Date.now();
  const sent: string[] = [];
  for (let i = 0; i < 30; i += 1) {
    const id = ids.next(now + i);
    sent.push(id);
    await history.append({ id, room: 'busy', from: 'a', tag: 't', text: `m${i}`, ts: now + i });
  }
  const before = store.requestCount;
  expect(await history.countAfter('busy', sent[9], 50)).toEqual({ count: 20, capped: false });
  expect(store.requestCount - before).toBe(1);
  expect(await history.countAfter('busy', undefined, 25)).toEqual({ count: 25, capped: true });
  expect(store.requestCount - before).toBe(2);
});
