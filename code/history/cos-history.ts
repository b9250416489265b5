import { COS_PAGE_SIZE, type ObjectStore } from '../cos/object-store';
import type { ChatMessage } from '../chat/protocol';
import type { HistoryStore } from './history';
import { mapBounded } from '../util/map-bounded';

/**
 * One object per message, `hist/<room>/<inverted time>-<id>`: writers in concurrent containers never overwrite
 * each other, and because COS lists keys in ascending order, the inverted time makes a listing newest-first,
 * so the last K messages are one list request (plus K small reads, done in parallel).
 */

const MAX_TIME = 9_999_999_999_999; // ms; 13 digits until the year 2286
const READ_CONCURRENCY = 16;

function historyPrefix(room: string): string {
  return `hist/${room}/`;
}

function historyKey(message: ChatMessage): string {
  return `${historyPrefix(message.room)}${String(MAX_TIME - message.ts).padStart(13, '0')}-${message.id}`;
}

function parseHistoryKey(key: string): { room: string; id: string } | undefined {
  const match = /^hist\/([^/]+)\/\d{13}-([^/]+)$/.exec(key);
  return match ? { room: match[1]!, id: match[2]! } : undefined;
}

export function createCosHistory(
  store: ObjectStore,
  retention: { limit: number; maxAgeMs: number },
  clock: () => number = Date.now,
): HistoryStore {
  return {
    async append(message) {
      if (retention.limit === 0) return;
      await store.put(historyKey(message), JSON.stringify(message));
    },

    async recent(room, { since, limit }) {
      const oldest = clock() - retention.maxAgeMs;
      const wanted = Math.min(limit, retention.limit);
      if (wanted <= 0) return { messages: [], more: false };
      // Newest first. Catching up needs every retained key after the cursor (at most `retention.limit`, one
      // page); a first look needs only the newest `wanted`, plus one to tell whether there is more.
      const page = await store.list(historyPrefix(room), {
        maxKeys: Math.min(COS_PAGE_SIZE, since === undefined ? wanted + 1 : retention.limit + 1),
      });
      const after: string[] = [];
      for (const object of page.objects) {
        const parsed = parseHistoryKey(object.key);
        if (!parsed || object.lastModified < oldest) continue;
        // Message IDs start with the time in base36, so they sort by time.
        if (since !== undefined && parsed.id <= since) break;
        after.push(object.key);
      }
      const more = after.length > wanted;
      const keys = since === undefined ? after.slice(0, wanted) : after.slice(-wanted);
      const bodies = await mapBounded(keys, READ_CONCURRENCY, (key) => store.get(key));
      const messages = bodies.flatMap((body): ChatMessage[] =>
        body === undefined ? [] : [JSON.parse(body) as ChatMessage],
      );
      return { messages: messages.reverse(), more };
    },

    async trim() {
      const oldest = clock() - retention.maxAgeMs;
      const expired: string[] = [];
      const keptPerRoom = new Map<string, number>();
      for await (const objects of store.listAll('hist/')) {
        for (const object of objects) {
          const parsed = parseHistoryKey(object.key);
          if (!parsed) continue;
          const kept = keptPerRoom.get(parsed.room) ?? 0;
          // Listing is newest-first within a room: keep the first `limit` young ones.
          if (kept >= retention.limit || object.lastModified < oldest) expired.push(object.key);
          else keptPerRoom.set(parsed.room, kept + 1);
        }
      }
      await store.deleteMany(expired);
      return expired.length;
    },
  };
}
