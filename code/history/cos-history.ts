import type { ObjectStore } from '../cos/object-store';
import { COS_PAGE_SIZE, etagOf } from '../cos/paging';
import type { ChatMessage } from '../chat/protocol';
import type { ClaimedMessage, HistoryStore } from './history';
import { choosePage, countAfter, retentionDropping } from './paging';
import { createLru } from '../util/lru';
import { mapBounded } from '../util/map-bounded';
import { createLogger, type Logger } from '../util/log';

/**
 * One object per message, `hist/<room>/<inverted time>-<id>`: writers in concurrent containers never overwrite
 * each other, and because COS lists keys in ascending order, the inverted time makes a listing newest-first,
 * so the last K messages are one list request (plus K small reads, done in parallel).
 */

const MAX_TIME = 9_999_999_999_999; // ms; 13 digits until the year 2286
const READ_CONCURRENCY = 16;
/**
 * Message bodies a warm container keeps, by key and ETag: a crowd joining an active room would otherwise read the
 * same page of messages once per person (a LIST and up to a page of GETs each). A message object is written once
 * and never changed, and the ETag (the body's MD5) would show it if one were, so a kept body is never stale.
 * Bounded in entries and in size per entry (a message at the default 4 KiB limit fits): at most 16 MiB.
 */
const BODY_CACHE_ENTRIES = 1000;
const BODY_CACHE_MAX_CHARS = 16 * 1024;

function historyPrefix(room: string): string {
  return `hist/${room}/`;
}

function historyKey(message: ChatMessage): string {
  return `${historyPrefix(message.room)}${String(MAX_TIME - message.ts).padStart(13, '0')}-${message.id}`;
}

/** Client message id claims: `cid/<room>/<cid>`, written create-only, holding the message that claimed it. */
function claimKey(room: string, cid: string): string {
  return `cid/${room}/${cid}`;
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
  const { id, room, from, tag, text, ts, source, cid } = value as Record<string, unknown>;
  if (
    !isString(id) ||
    !isString(room) ||
    !isString(from) ||
    !isString(tag) ||
    !isString(text) ||
    typeof ts !== 'number' ||
    !Number.isFinite(ts) ||
    (source !== undefined && source !== 'api') ||
    (cid !== undefined && !isString(cid))
  ) {
    return { ok: false, reason: 'not a message object' };
  }
  const parsed = parseHistoryKey(key);
  if (!parsed || parsed.room !== room || parsed.id !== id)
    return { ok: false, reason: 'does not match its key' };
  const message: ChatMessage = { id, room, from, tag, text, ts };
  if (source === 'api') message.source = source;
  if (cid !== undefined) message.cid = cid;
  return { ok: true, message };
}

/** A claim's body: `{"message": …, "undelivered"?: true}`, the message checked as a history object would be. */
function parseClaim(body: string): ClaimedMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { message, undelivered } = (value ?? {}) as { message?: Partial<ChatMessage>; undelivered?: unknown };
  if (typeof message?.ts !== 'number' || typeof message.id !== 'string' || typeof message.room !== 'string')
    return undefined;
  const parsed = parseHistoryObject(historyKey(message as ChatMessage), JSON.stringify(message));
  return parsed.ok ? { message: parsed.message, undelivered: undelivered === true } : undefined;
}

/** See BODY_CACHE_ENTRIES. */
function createBodyCache() {
  const entries = createLru<string, { etag: string; body: string }>(BODY_CACHE_ENTRIES);
  return {
    get(key: string, etag: string): string | undefined {
      const entry = entries.get(key);
      return entry?.etag === etag ? entry.body : undefined;
    },
    set(key: string, etag: string, body: string): void {
      if (body.length <= BODY_CACHE_MAX_CHARS) entries.set(key, { etag, body });
    },
  };
}

export function createCosHistory(
  store: ObjectStore,
  retention: { limit: number; maxAgeMs: number },
  clock: () => number = Date.now,
  log: Logger = createLogger(),
): HistoryStore {
  const bodies = createBodyCache();

  /** One LIST, newest first: the room's keys within the age limit (`oldest`), and whether any past it were listed. */
  async function listRetained(room: string, maxKeys: number) {
    const oldest = clock() - retention.maxAgeMs;
    const page = await store.list(historyPrefix(room), { maxKeys: Math.min(COS_PAGE_SIZE, maxKeys) });
    const retained: Array<{ id: string; key: string; etag: string }> = [];
    let agedOut = false;
    for (const object of page.objects) {
      const parsed = parseHistoryKey(object.key);
      if (!parsed) continue;
      if (object.lastModified < oldest) agedOut = true;
      else retained.push({ id: parsed.id, key: object.key, etag: object.etag });
    }
    return { retained, agedOut, oldest };
  }

  return {
    async append(message) {
      if (retention.limit === 0) return;
      const key = historyKey(message);
      const body = JSON.stringify(message);
      await store.put(key, body);
      bodies.set(key, etagOf(body), body);
    },

    async recent(room, { since, before, limit }) {
      const wanted = Math.min(limit, retention.limit);
      if (wanted <= 0)
        return since === undefined ? { messages: [], more: false } : { messages: [], more: false, gap: true };
      // A cursor needs every kept key (at most `retention.limit`, one page); the latest page needs only the
      // newest `wanted`, plus one to tell whether there is more.
      const cursor = since ?? before;
      const { retained, agedOut, oldest } = await listRetained(
        room,
        cursor === undefined ? wanted + 1 : retention.limit + 1,
      );
      const kept = cursor === undefined ? retained : retained.slice(0, retention.limit);
      const dropping = retentionDropping({
        keptCount: retained.length,
        limit: retention.limit,
        agedOut,
        cursor: since,
        oldestAllowedMs: oldest,
      });
      const choice = choosePage(kept, { since, before, limit: wanted }, dropping);
      const keys = choice.chosen.map((entry) => entry.key);
      const read = await mapBounded(choice.chosen, READ_CONCURRENCY, async ({ key, etag }) => {
        const kept = bodies.get(key, etag);
        if (kept !== undefined) return kept;
        const body = await store.get(key);
        if (body !== undefined && etagOf(body) === etag) bodies.set(key, etag, body);
        return body;
      });
      // One unreadable object must not cost the room its history: skip it, and say which and why.
      const messages = read.flatMap((body, index): ChatMessage[] => {
        if (body === undefined) return [];
        const key = keys[index]!;
        const result = parseHistoryObject(key, body);
        if (result.ok) return [result.message];
        log.warn('history_object_skipped', { key, reason: result.reason });
        return [];
      });
      return {
        messages: messages.reverse(),
        more: choice.more,
        ...(choice.gap ? { gap: true as const } : {}),
      };
    },

    async countAfter(room, since, cap) {
      if (retention.limit <= 0 || cap <= 0) return { count: 0, capped: false };
      const { retained } = await listRetained(room, retention.limit);
      return countAfter(retained.slice(0, retention.limit), since, cap);
    },

    async has(message) {
      return (await store.get(historyKey(message))) !== undefined;
    },

    async claim(message) {
      const key = claimKey(message.room, message.cid);
      if (await store.putNew(key, JSON.stringify({ message }))) return undefined;
      const body = await store.get(key);
      // Gone between the two requests (expired and trimmed): nobody holds it now, so this send goes ahead.
      if (body === undefined) return undefined;
      const claimed = parseClaim(body);
      if (claimed) return claimed;
      log.warn('claim_object_unreadable', { key });
      return undefined;
    },

    async markUndelivered(message) {
      await store.put(claimKey(message.room, message.cid), JSON.stringify({ message, undelivered: true }));
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
      // Claims only guard retries, which come within seconds; past the age limit they are only cost.
      const expiredClaims: string[] = [];
      for await (const objects of store.listAll('cid/')) {
        for (const object of objects) if (object.lastModified < oldest) expiredClaims.push(object.key);
      }
      await store.deleteMany([...expired, ...expiredClaims]);
      return expired.length;
    },
  };
}
