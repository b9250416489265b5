import COS from 'cos-nodejs-sdk-v5';
import { environmentKeys, type CosSettings } from '../config';
import { StoreError } from '../util/store-error';
import { ListXmlError, parseListBucketResult, type ListBucketResult } from './list-xml';

export { StoreError };

/**
 * A narrow view of one COS bucket under one key prefix, over the real `cos-nodejs-sdk-v5`. The registry and the
 * history store are built on it; nothing above this file sees SDK types or SDK error shapes.
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

import { allPages, COS_PAGE_SIZE, inPages, unlessMissing } from './paging';

export { COS_PAGE_SIZE };

interface SdkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function describe(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  return (
    [e.statusCode, e.code, e.message].filter((part) => part !== undefined && part !== '').join(' ') || 'error'
  );
}

/** The SDK hands bodies back as a Buffer (or, for some calls, a string). */
function bodyText(body: unknown): string {
  return Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
}

/** COS refuses a write with `x-cos-forbid-overwrite: true` to an existing key with 409 (FileAlreadyExists). */
function isAlreadyThere(error: unknown): boolean {
  return ((error ?? {}) as SdkError).statusCode === 409;
}

function isNotFound(error: unknown): boolean {
  // Errors are plain objects, not always Errors; HEAD/GET without an XML body report code '404'.
  const e = (error ?? {}) as SdkError;
  return e.statusCode === 404 || e.code === 'NoSuchKey' || e.code === '404';
}

/** The SDK retries 5xx and network errors itself (4 tries); this bounds the whole call, retries included. */
function withDeadline<T>(operation: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreError(`COS ${operation} timed out after ${ms} ms`, undefined)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The COS client. It signs every request with the keys in the environment at that moment (`getAuthorization`), not
 * with keys captured when the container started: an SCF execution role's temporary keys expire, and whether SCF
 * replaces them inside a warm container is undocumented (SCF's role docs do not say). When the environment
 * holds no keys (local runs, tests that pass settings directly), the keys in `settings` sign.
 */
export function createCosClient(settings: CosSettings, env: NodeJS.ProcessEnv = process.env): COS {
  const options: COS.COSOptions = {
    Timeout: settings.timeoutMs,
    KeepAlive: true,
    getAuthorization(request, callback) {
      const keys = environmentKeys(env) ?? settings;
      const Authorization = COS.getAuthorization({
        SecretId: keys.secretId,
        SecretKey: keys.secretKey,
        Method: request.Method,
        Pathname: request.Pathname,
        Query: request.Query,
        Headers: request.Headers,
        SystemClockOffset: request.SystemClockOffset,
        Expires: 900,
      });
      // The SDK also takes { Authorization, SecurityToken } (sdk/base.js `checkAuthError`, then the token becomes
      // x-cos-security-token), which its typings omit. A plain string would drop the session token.
      const signed = { Authorization, SecurityToken: keys.sessionToken ?? '' };
      callback(signed as unknown as COS.Authorization);
    },
  };
  if (settings.endpoint) {
    // Path-style addressing through the Domain template; ForcePathStyle throws since SDK 2.13.
    const endpoint = new URL(settings.endpoint);
    const path = endpoint.pathname.replace(/\/+$/, '');
    options.Protocol = endpoint.protocol as 'http:' | 'https:';
    options.Domain = `${endpoint.host}${path}/{Bucket}`;
    options.AutoSwitchHost = false;
  }
  return new COS(options);
}

export function createObjectStore(settings: CosSettings, cos: COS = createCosClient(settings)): ObjectStore {
  const { bucket: Bucket, region: Region, keyPrefix } = settings;
  let requestCount = 0;

  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    requestCount += 1;
    try {
      return await withDeadline(operation, settings.timeoutMs, run());
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`COS ${operation} failed: ${describe(error)}`, error);
    }
  }

  async function list(
    prefix: string,
    options: { marker?: string; maxKeys?: number } = {},
  ): Promise<ListPage> {
    // GET Bucket through the SDK's generic request, read by parseListBucketResult (see there for why).
    const query: Record<string, string> = {
      prefix: keyPrefix + prefix,
      'max-keys': String(options.maxKeys ?? COS_PAGE_SIZE),
    };
    if (options.marker !== undefined) query.marker = keyPrefix + options.marker;
    const result = await call('getBucket', () =>
      cos.request({ Bucket, Region, Method: 'GET', Key: '', Query: query, RawBody: true }),
    );
    let listing: ListBucketResult;
    try {
      listing = parseListBucketResult(bodyText(result.Body));
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

  async function putObject(key: string, body: string, headers: Record<string, string> = {}): Promise<void> {
    // SkipTask: without it the SDK queues every putObject as an upload task and, on each one, re-formats its
    // whole task list (up to UploadQueueSize = 1000 entries) for progress events: measured at ~10 ms of CPU
    // per put once the list is full. The option exists in sdk/task.js but not in the SDK's typings.
    const params: COS.PutObjectParams & { SkipTask: true; Headers: Record<string, string> } = {
      Bucket,
      Region,
      Key: keyPrefix + key,
      Body: body,
      ContentType: 'application/json',
      SkipTask: true,
      Headers: headers,
    };
    await call('putObject', () => cos.putObject(params));
  }

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

    get: (key) =>
      unlessMissing(
        call('getObject', () => cos.getObject({ Bucket, Region, Key: keyPrefix + key })).then((result) =>
          bodyText(result.Body),
        ),
        isNotFound,
      ),

    list,

    listAll: (prefix, after) => allPages(list, prefix, after),

    deleteMany: (keys) =>
      inPages(keys, async (page) => {
        const batch = page.map((key) => ({ Key: keyPrefix + key }));
        const result = await call('deleteMultipleObject', () =>
          cos.deleteMultipleObject({ Bucket, Region, Objects: batch, Quiet: true }),
        );
        const failed = result.Error ?? [];
        if (failed.length > 0) {
          throw new StoreError(
            `COS refused to delete ${failed.length} object(s): ${failed[0]?.Code}`,
            failed,
          );
        }
      }),
  };
}
