import { createHash } from 'crypto';
import type { CosSettings } from '../config';
import { StoreError } from '../util/store-error';
import { CosDeadlineError, createCosSend, type CosAnswer, type CosCall, type CosSend } from './cos-http';
import {
  ListXmlError,
  parseDeleteFailures,
  parseListBucketResult,
  xmlEscape,
  type ListBucketResult,
} from './cos-xml';

export { StoreError };

/**
 * A narrow view of one COS bucket under one key prefix, over COS's XML API (cos-http.ts). The registry and the
 * history store are built on it; nothing above this file sees COS's status codes or error shapes.
 */

export interface ListedObject {
  /** Key relative to the store's prefix. */
  key: string;
  lastModified: number;
  /** The MD5 of the body for a simple PUT, without quotes. */
  etag: string;
}

export interface ListPage {
  objects: ListedObject[];
  /** Pass back as `marker` to read the next page; undefined on the last page. */
  nextMarker?: string;
}

export interface ObjectStore {
  put(key: string, body: string): Promise<void>;
  /**
   * Writes the object only if no object has the key (COS's `x-cos-forbid-overwrite: true`): true when this call
   * created it, false when one was there already (COS answers 409).
   */
  putNew(key: string, body: string): Promise<boolean>;
  /** The object's body, or undefined when there is no such object. */
  get(key: string): Promise<string | undefined>;
  list(prefix: string, options?: { marker?: string; maxKeys?: number }): Promise<ListPage>;
  /** Every object under the prefix (after `after`, if given), a page at a time (a request each), in key order. */
  listAll(prefix: string, after?: string): AsyncIterable<ListedObject[]>;
  /** Deletes many keys (batched by 1000, COS's limit per request). Missing keys count as deleted. */
  deleteMany(keys: string[]): Promise<void>;
  /** How many HTTP requests this store has sent, for the per-broadcast budget. */
  readonly requestCount: number;
}

import { allPages, COS_PAGE_SIZE, inPages } from './paging';

export { COS_PAGE_SIZE };

/** A COS answer other than success, kept as the StoreError's cause. */
export class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`${status}${code === undefined ? '' : ` ${code}`}`);
  }
}

/** COS refuses a write with `x-cos-forbid-overwrite: true` to an existing key with 409 (FileAlreadyExists). */
function isAlreadyThere(error: unknown): boolean {
  return error instanceof CosError && error.status === 409;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createObjectStore(
  settings: CosSettings,
  send: CosSend = createCosSend(settings),
): ObjectStore {
  const { keyPrefix } = settings;
  let requestCount = 0;

  /** One call; an answer outside `ok` fails it with a CosError cause. */
  async function call(
    operation: string,
    request: CosCall,
    ok = (status: number) => status < 300,
  ): Promise<CosAnswer> {
    requestCount += 1;
    let answer: CosAnswer;
    try {
      // The deadline bounds the whole call, retries included (cos-http.ts retries 5xx and network errors). When it
      // passes, the attempt in flight is cut off and no retry starts: a write the caller was told failed is not
      // sent again behind its back.
      answer = await send(request, Date.now() + settings.timeoutMs);
    } catch (error) {
      if (error instanceof CosDeadlineError)
        throw new StoreError(`COS ${operation} timed out after ${settings.timeoutMs} ms`, undefined);
      throw new StoreError(`COS ${operation} failed: ${describe(error)}`, error);
    }
    if (!ok(answer.status)) {
      const cause = new CosError(answer.status, answer.code);
      throw new StoreError(`COS ${operation} failed: ${cause.message}`, cause);
    }
    return answer;
  }

  async function list(
    prefix: string,
    options: { marker?: string; maxKeys?: number } = {},
  ): Promise<ListPage> {
    const query: Record<string, string> = {
      prefix: keyPrefix + prefix,
      'max-keys': String(options.maxKeys ?? COS_PAGE_SIZE),
    };
    if (options.marker !== undefined) query.marker = keyPrefix + options.marker;
    const answer = await call('getBucket', { method: 'GET', key: '', query });
    let listing: ListBucketResult;
    try {
      listing = parseListBucketResult(answer.body);
    } catch (error) {
      if (error instanceof ListXmlError)
        throw new StoreError(`COS getBucket answered with an unreadable listing: ${error.message}`, error);
      throw error;
    }
    const objects = listing.contents.map((item) => ({
      key: item.key.slice(keyPrefix.length),
      lastModified: Date.parse(item.lastModified),
      etag: item.etag.replace(/"/g, ''),
    }));
    // COS sends NextMarker when truncated; fall back to the last key.
    if (!listing.isTruncated || objects.length === 0) return { objects };
    const next = listing.nextMarker ?? keyPrefix + objects[objects.length - 1]!.key;
    return { objects, nextMarker: next.slice(keyPrefix.length) };
  }

  const putObject = (key: string, body: string, headers: Record<string, string> = {}) =>
    call('putObject', {
      method: 'PUT',
      key: keyPrefix + key,
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });

  return {
    get requestCount() {
      return requestCount;
    },

    async put(key, body) {
      await putObject(key, body);
    },

    async putNew(key, body) {
      try {
        await putObject(key, body, { 'x-cos-forbid-overwrite': 'true' });
        return true;
      } catch (error) {
        if (error instanceof StoreError && isAlreadyThere(error.cause)) return false;
        throw error;
      }
    },

    async get(key) {
      const answer = await call(
        'getObject',
        { method: 'GET', key: keyPrefix + key },
        (s) => s < 300 || s === 404,
      );
      return answer.status === 404 ? undefined : answer.body;
    },

    list,

    listAll: (prefix, after) => allPages(list, prefix, after),

    deleteMany: (keys) =>
      inPages(keys, async (page) => {
        const objects = page
          .map((key) => `<Object><Key>${xmlEscape(keyPrefix + key)}</Key></Object>`)
          .join('');
        const body = `<Delete>${objects}<Quiet>true</Quiet></Delete>`;
        const answer = await call('deleteMultipleObject', {
          method: 'POST',
          key: '',
          query: { delete: '' },
          headers: {
            'Content-Type': 'application/xml',
            // COS requires the body's MD5 on a multi-delete.
            'Content-MD5': createHash('md5').update(body).digest('base64'),
          },
          body,
        });
        const failed = parseDeleteFailures(answer.body);
        if (failed.length > 0) {
          throw new StoreError(
            `COS refused to delete ${failed.length} object(s): ${failed[0]!.code}`,
            failed,
          );
        }
      }),
  };
}
