import type { ObjectStore } from '../cos/object-store';
import { COS_PAGE_SIZE } from '../cos/paging';
import type { ChatMessage } from '../chat/protocol';
import type { HistoryStore } from './history';
import { mapBounded } from '../util/map-bounded';
import { createLogger, type Logger } from '../util/log';

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

/** Why a stored object is not a message. Fixed phrases: the log never quotes a body (it may hold anything). */
export type BadHistoryReason = 'not JSON' | 'not a message object' | 'does not match its key';

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/**
 * The message stored under `key`, rebuilt from known fields only (an object written by hand or by another
 * version may carry anything else); or why it is not one.
 */
export function parseHistoryObject(
  key: string,
  body: string,
): { ok: true; message: ChatMessage } | { ok: false; reason: BadHistoryReason } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a message object' };
  }
  const { id, room, from, tag, text, ts, source } = value as Record<string, unknown>;
  if (
    !isString(id) ||
    !isString(room) ||
    !isString(from) ||
    !isString(tag) ||
    !isString(text) ||
    typeof ts !== 'number' ||
    !Number.isFinite(ts) ||
    (source !== undefined && source !== 'api')
  ) {
    return { ok: false, reason: 'not a message object' };
  }
  const parsed = parseHistoryKey(key);
  if (!parsed || parsed.room !== room || parsed.id !== id)
    return { ok: false, reason: 'does not match its key' };
  return {
    ok: true,
    message: source === 'api' ? { id, room, from, tag, text, ts, source } : { id, room, from, tag, text, ts },
  };
}

export function createCosHistory(
  store: ObjectStore,
  retention: { limit: number; maxAgeMs: number },
  clock: () => number = Date.now,
  log: Logger = createLogger(),
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
      // One unreadable object must not cost the room its history: skip it, and say which and why.
      const messages = bodies.flatMap((body, index): ChatMessage[] => {
        if (body === undefined) return [];
        const key = keys[index]!;
        const result = parseHistoryObject(key, body);
        if (result.ok) return [result.message];
        log.warn('history_object_skipped', { key, reason: result.reason });
        return [];
      });
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
