import { createHash, randomBytes } from 'crypto';
import { promises as fs, readdirSync, readFileSync, mkdirSync, rmSync } from 'fs';
import type { IncomingMessage, ServerResponse } from 'http';
import path from 'path';
import { xmlEscape, xmlUnescape } from '../../code/cos/cos-xml';
import { BodyTooLarge, readBody } from '../../code/util/read-body';

/**
 * A COS-compatible object store for local runs and tests: the subset of the COS XML API this project uses
 * (PUT/GET/HEAD/DELETE object, GET bucket with prefix/marker/max-keys/delimiter, POST ?delete), path-style
 * (also S3's ListObjectsV2, so the AWS variant's @aws-sdk/client-s3 runs on it too: docs/aws.md)
 * (`/<bucket>/<key>`, which the real SDK sends when its Domain option is `host/{Bucket}`), COS-shaped XML errors,
 * and persistence to a data directory. Response shapes are what cos-nodejs-sdk-v5's parser accepts (its sdk/base.js).
 * Signatures are not checked, but a request without an Authorization header is refused, as COS would.
 *
 * Hostile or broken clients cost little: the operation, the Authorization header and the declared size are checked
 * before a byte of the body is read, and a body without a declared size is cut off at the same cap. A write is
 * acknowledged only once it is on disk (temporary file, fsync, rename, fsync of the directory), so a crash never
 * loses an acknowledged write; temporaries a crash leaves behind are removed at start.
 */

/** Listing parameters that may be given once: COS's (S3 v1) and S3's ListObjectsV2. */
const LIST_PARAMETERS = [
  'prefix',
  'marker',
  'delimiter',
  'max-keys',
  'encoding-type',
  'list-type',
  'start-after',
  'continuation-token',
];

export type CosOperation = 'put' | 'get' | 'head' | 'delete' | 'list' | 'multiDelete';

export interface CosFault {
  /** Which operations fail; all when omitted. */
  operation?: CosOperation;
  /** Answer with this status and a COS error body; omit with `delayMs` for a slow but correct answer. */
  status?: number;
  /** Added latency before answering (or before the error). */
  delayMs?: number;
  /** How many requests it applies to; unlimited when omitted. */
  times?: number;
}

interface StoredObject {
  key: string;
  body: Buffer;
  etag: string;
  lastModified: number;
  contentType: string;
}

export interface CosServer {
  /** Handles a request under `mountPath`; returns false for paths it does not own. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests per operation since start or the last reset. */
  stats(): Record<CosOperation, number>;
  resetStats(): void;
  injectFault(fault: CosFault): void;
  clearFaults(): void;
  /** Keys in a bucket (for tests). */
  keys(bucket: string, prefix?: string): string[];
  /** When an object was last written, epoch ms (for tests). */
  lastModified(bucket: string, key: string): number | undefined;
  /** Waits for pending writes to reach the disk. */
  flush(): Promise<void>;
}

const MAX_KEYS = 1000;
/**
 * Largest object body. COS takes up to 5 GB in one PUT; this store keeps objects in memory, and this project's
 * objects are a few hundred bytes, so it refuses anything larger (COS's EntityTooLarge) rather than hold it.
 */
export const DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024;
/** A multi-delete of 1000 keys of COS's maximum length, every character XML-escaped, fits in this. */
const MAX_DELETE_BODY_BYTES = 8 * 1024 * 1024;

/** First index in the sorted `keys` whose key is >= `target`. */
function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Bucket {
  readonly objects = new Map<string, StoredObject>();
  /** Sorted keys. Keys here are ASCII-safe, so UTF-16 order equals COS's UTF-8 byte order. */
  readonly sorted: string[] = [];

  set(object: StoredObject): void {
    if (!this.objects.has(object.key)) this.sorted.splice(lowerBound(this.sorted, object.key), 0, object.key);
    this.objects.set(object.key, object);
  }

  delete(key: string): boolean {
    if (!this.objects.delete(key)) return false;
    this.sorted.splice(lowerBound(this.sorted, key), 1);
    return true;
  }
}

function fileNameOf(key: string): string {
  return `${createHash('sha256').update(key).digest('hex')}.json`;
}

/** Status, COS error code and message of a refusal. */
type Refusal = [status: number, code: string, message: string];

/** fsyncs of one directory, coalesced: callers that arrive while one runs share the next one. */
function directorySyncer(dir: string): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const run = async () => {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  const sync = (): Promise<void> => {
    if (running === undefined) {
      running = run().finally(() => {
        running = undefined;
      });
      return running;
    }
    // The running sync may have started before the caller's rename; only one that starts later covers it.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return sync();
      });
    return queued;
  };
  return sync;
}

/** Writes `data` to `file` so that, once this resolves, a crash leaves either the old file or the new one. */
async function writeDurably(file: string, data: string, syncDir: () => Promise<void>): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDir();
}

export function createCosServer(options: {
  dataDir?: string;
  buckets: string[];
  mountPath?: string;
  /** Largest accepted object body, in bytes (default DEFAULT_MAX_OBJECT_BYTES). */
  maxObjectBytes?: number;
}): CosServer {
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const mount = (options.mountPath ?? '').replace(/\/+$/, '');
  const buckets = new Map<string, Bucket>();
  const pendingWrites = new Set<Promise<void>>();
  const counters: Record<CosOperation, number> = {
    put: 0,
    get: 0,
    head: 0,
    delete: 0,
    list: 0,
    multiDelete: 0,
  };
  let faults: Array<CosFault & { used: number }> = [];
  const dirSyncs = new Map<string, () => Promise<void>>();
  /** Keys being created with x-cos-forbid-overwrite, not yet committed. */
  const creating = new Set<string>();

  for (const name of options.buckets) {
    const bucket = new Bucket();
    buckets.set(name, bucket);
    if (options.dataDir) {
      const dir = path.join(options.dataDir, name);
      mkdirSync(dir, { recursive: true });
      dirSyncs.set(name, directorySyncer(dir));
      for (const file of readdirSync(dir)) {
        // A temporary is a write that never got acknowledged (the process died before its rename).
        if (file.endsWith('.tmp')) {
          rmSync(path.join(dir, file), { force: true });
          continue;
        }
        if (!file.endsWith('.json')) continue;
        try {
          const saved = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Omit<
            StoredObject,
            'body'
          > & {
            body: string;
          };
          bucket.set({ ...saved, body: Buffer.from(saved.body, 'base64') });
        } catch {
          // Not written by this server (renames are atomic): skip it rather than refuse to start.
        }
      }
    }
  }

  /** Writes to one file run in order, so a delete cannot overtake the put before it. */
  const fileQueues = new Map<string, Promise<void>>();

  function enqueue(file: string, write: () => Promise<void>): Promise<void> {
    const queued = (fileQueues.get(file) ?? Promise.resolve()).catch(() => undefined).then(write);
    fileQueues.set(file, queued);
    pendingWrites.add(queued);
    const done = () => {
      pendingWrites.delete(queued);
      if (fileQueues.get(file) === queued) fileQueues.delete(file);
    };
    queued.then(done, done);
    return queued;
  }

  /**
   * Stores an object, or deletes it, on disk first and in memory second, in request order per key; resolves when
   * both are done, so a request is acknowledged only for a write a crash cannot undo.
   */
  function commit(bucketName: string, bucket: Bucket, change: StoredObject | { key: string; deleted: true }) {
    const apply = () => {
      if ('deleted' in change) bucket.delete(change.key);
      else bucket.set(change);
    };
    if (!options.dataDir) {
      apply();
      return Promise.resolve();
    }
    const file = path.join(options.dataDir, bucketName, fileNameOf(change.key));
    const syncDir = dirSyncs.get(bucketName)!;
    if ('deleted' in change) {
      // Nothing on disk and nothing on its way there: no file to remove.
      if (!bucket.objects.has(change.key) && !fileQueues.has(file)) return Promise.resolve();
      return enqueue(file, async () => {
        await fs.rm(file, { force: true });
        await syncDir();
        apply();
      });
    }
    const json = JSON.stringify({ ...change, body: change.body.toString('base64') });
    return enqueue(file, async () => {
      await writeDurably(file, json, syncDir);
      apply();
    });
  }

  // Unique per request like COS's, without a randomBytes call per request (measurable in a room formation).
  const requestIdPrefix = randomBytes(8).toString('hex');
  let requestCounter = 0;
  function requestId(): string {
    requestCounter += 1;
    return `${requestIdPrefix}${requestCounter.toString(16).padStart(8, '0')}`;
  }

  function sendXml(res: ServerResponse, status: number, xml: string): void {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
    res.writeHead(status, {
      'Content-Type': 'application/xml',
      'Content-Length': Buffer.byteLength(body),
      'x-cos-request-id': requestId(),
    });
    res.end(body);
  }

  function sendError(
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    resource: string,
  ): void {
    sendXml(
      res,
      status,
      `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource>` +
        `<RequestId>${requestId()}</RequestId><TraceId>${requestId()}</TraceId></Error>`,
    );
  }

  /** What COS would answer to these listing parameters, if they are not valid. */
  function checkListQuery(query: URLSearchParams): Refusal | undefined {
    for (const name of LIST_PARAMETERS) {
      if (query.getAll(name).length > 1)
        return [400, 'InvalidArgument', `The parameter ${name} is given more than once.`];
    }
    const maxKeys = query.get('max-keys');
    // A count of 0 or less would give a truncated page with no marker to go on from.
    if (maxKeys !== null && !/^[1-9][0-9]{0,9}$/.test(maxKeys)) {
      return [
        400,
        'InvalidArgument',
        'max-keys must be a whole number from 1 (at most 1000 keys are returned).',
      ];
    }
    const encoding = query.get('encoding-type');
    if (encoding !== null) {
      return encoding === 'url'
        ? [501, 'NotImplemented', 'This local store does not implement encoding-type.']
        : [400, 'InvalidArgument', 'encoding-type must be "url".'];
    }
    return undefined;
  }

  function matchFault(operation: CosOperation): CosFault | undefined {
    const fault = faults.find(
      (f) =>
        (f.operation === undefined || f.operation === operation) &&
        (f.times === undefined || f.used < f.times),
    );
    if (fault) fault.used += 1;
    return fault;
  }

  /** An object's `<Contents>` entry, written once per stored version: a big room is listed again and again. */
  const listEntries = new WeakMap<StoredObject, string>();
  function listEntry(o: StoredObject): string {
    let entry = listEntries.get(o);
    if (entry === undefined) {
      entry =
        `<Contents><Key>${xmlEscape(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified>` +
        `<ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>` +
        `<StorageClass>STANDARD</StorageClass></Contents>`;
      listEntries.set(o, entry);
    }
    return entry;
  }

  function listBucket(res: ServerResponse, name: string, bucket: Bucket, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    // S3's ListObjectsV2 (list-type=2, what @aws-sdk/client-s3 sends): start-after and the continuation token
    // play the marker's part; our tokens are simply the last key of the page before.
    const v2 = query.get('list-type') === '2';
    const marker =
      (v2 ? (query.get('continuation-token') ?? query.get('start-after')) : query.get('marker')) ?? '';
    const delimiter = query.get('delimiter') ?? '';
    // Validated by checkListQuery: a whole number from 1; like COS, more than 1000 means 1000.
    const maxKeys = Math.min(MAX_KEYS, Number(query.get('max-keys') ?? MAX_KEYS));
    const contents: StoredObject[] = [];
    const commonPrefixes: string[] = [];
    let truncated = false;
    let last = '';
    let index = lowerBound(bucket.sorted, marker > prefix ? marker : prefix);
    for (; index < bucket.sorted.length; index += 1) {
      const key = bucket.sorted[index]!;
      if (key <= marker && marker !== '') continue;
      if (!key.startsWith(prefix)) break;
      const rest = key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      const common = cut === -1 ? undefined : prefix + rest.slice(0, cut + delimiter.length);
      if (common !== undefined && common === commonPrefixes[commonPrefixes.length - 1]) continue;
      if (contents.length + commonPrefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        commonPrefixes.push(common);
        last = common;
      } else {
        contents.push(bucket.objects.get(key)!);
        last = key;
      }
    }
    const items = contents.map(listEntry).join('');
    const prefixes = commonPrefixes
      .map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`)
      .join('');
    sendXml(
      res,
      200,
      `<ListBucketResult><Name>${xmlEscape(name)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
        (v2
          ? `<KeyCount>${contents.length + commonPrefixes.length}</KeyCount>`
          : `<Marker>${xmlEscape(marker)}</Marker>`) +
        `<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${xmlEscape(delimiter)}</Delimiter><IsTruncated>${truncated}</IsTruncated>` +
        // COS sends NextMarker whenever the listing is truncated (S3 v1 only does so with a delimiter).
        (truncated
          ? `<${v2 ? 'NextContinuationToken' : 'NextMarker'}>${xmlEscape(last)}</${v2 ? 'NextContinuationToken' : 'NextMarker'}>`
          : '') +
        `${prefixes}${items}</ListBucketResult>`,
    );
  }

  async function handleRequest(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ) {
    const slash = pathname.indexOf('/', 1);
    const bucketName = decodeURIComponent(slash === -1 ? pathname.slice(1) : pathname.slice(1, slash));
    const key = slash === -1 ? '' : decodeURIComponent(pathname.slice(slash + 1));
    const method = req.method ?? 'GET';
    const length = req.headers['content-length'];
    // Until a body is read, any answer closes the connection rather than drain a body of any size.
    if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
      res.setHeader('Connection', 'close');
    }
    const operation: CosOperation | undefined =
      key === ''
        ? method === 'GET'
          ? 'list'
          : method === 'POST' && query.has('delete')
            ? 'multiDelete'
            : undefined
        : ({ PUT: 'put', GET: 'get', HEAD: 'head', DELETE: 'delete' } as Record<string, CosOperation>)[
            method
          ];
    if (
      operation === undefined ||
      [...query.keys()].some((q) => ['acl', 'cors', 'tagging', 'versioning', 'uploads', 'policy'].includes(q))
    ) {
      return sendError(
        res,
        501,
        'NotImplemented',
        'This local store does not implement this request.',
        pathname,
      );
    }
    counters[operation] += 1;
    // Authorization and size are checked before any of the body is read, so a refused body costs nothing.
    if (!req.headers.authorization) {
      return sendError(res, 403, 'AccessDenied', 'Access Denied.', pathname);
    }
    const limit =
      operation === 'put' ? maxObjectBytes : operation === 'multiDelete' ? MAX_DELETE_BODY_BYTES : 0;
    const tooLarge: Refusal = [
      400,
      'EntityTooLarge',
      `Your proposed upload exceeds the maximum allowed size (${limit} bytes).`,
    ];
    if (limit > 0 && Number(length ?? 0) > limit) return sendError(res, ...tooLarge, pathname);
    if (operation === 'list') {
      const refusal = checkListQuery(query);
      if (refusal) return sendError(res, ...refusal, pathname);
    }
    // Operations without a body never read one: their answer keeps `Connection: close` if a body was sent.
    let body: Buffer = Buffer.alloc(0);
    if (limit > 0) {
      try {
        body = await readBody(req, limit);
      } catch (error) {
        if (error instanceof BodyTooLarge) return sendError(res, ...tooLarge, pathname);
        throw error;
      }
    }
    if (limit > 0) res.removeHeader('Connection');
    const fault = matchFault(operation);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status) {
      return sendError(
        res,
        fault.status,
        fault.status === 503 ? 'ServiceUnavailable' : 'InternalError',
        'Injected fault.',
        pathname,
      );
    }
    const bucket = buckets.get(bucketName);
    if (!bucket)
      return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist.', bucketName);

    switch (operation) {
      case 'list':
        return listBucket(res, bucketName, bucket, query);
      case 'put': {
        // `x-cos-forbid-overwrite: true`: create only. The check and the reservation are synchronous, so two
        // concurrent creates of one key cannot both succeed while the first is still on its way to the disk.
        // S3's equivalent is `If-None-Match: *`, answered 412 PreconditionFailed (start:aws uses this server).
        const cosCreateOnly = String(req.headers['x-cos-forbid-overwrite'] ?? '').toLowerCase() === 'true';
        const s3CreateOnly = req.headers['if-none-match'] === '*';
        const createOnly = cosCreateOnly || s3CreateOnly;
        const reservation = `${bucketName}/${key}`;
        if (createOnly && (bucket.objects.has(key) || creating.has(reservation))) {
          return s3CreateOnly
            ? sendError(
                res,
                412,
                'PreconditionFailed',
                'At least one of the pre-conditions you specified did not hold.',
                reservation,
              )
            : sendError(res, 409, 'FileAlreadyExists', 'The object already exists.', reservation);
        }
        if (createOnly) creating.add(reservation);
        const object: StoredObject = {
          key,
          body,
          etag: `"${createHash('md5').update(body).digest('hex')}"`,
          lastModified: Date.now(),
          contentType: req.headers['content-type'] ?? 'application/octet-stream',
        };
        try {
          await commit(bucketName, bucket, object);
        } finally {
          if (createOnly) creating.delete(reservation);
        }
        res.writeHead(200, { ETag: object.etag, 'Content-Length': 0, 'x-cos-request-id': requestId() });
        return res.end();
      }
      case 'get':
      case 'head': {
        const object = bucket.objects.get(key);
        if (!object) {
          if (operation === 'head') {
            res.writeHead(404, { 'x-cos-request-id': requestId() });
            return res.end();
          }
          return sendError(
            res,
            404,
            'NoSuchKey',
            'The specified key does not exist.',
            `${bucketName}/${key}`,
          );
        }
        res.writeHead(200, {
          ETag: object.etag,
          'Last-Modified': new Date(object.lastModified).toUTCString(),
          'Content-Type': object.contentType,
          'Content-Length': object.body.length,
          'x-cos-request-id': requestId(),
        });
        return res.end(operation === 'get' ? object.body : undefined);
      }
      case 'delete': {
        await commit(bucketName, bucket, { key, deleted: true });
        res.writeHead(204, { 'x-cos-request-id': requestId() });
        return res.end();
      }
      case 'multiDelete': {
        const xml = body.toString('utf8');
        const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
        if (keys.length > MAX_KEYS) {
          return sendError(res, 400, 'MalformedXML', `At most ${MAX_KEYS} keys per request.`, bucketName);
        }
        const quiet = /<Quiet>true<\/Quiet>/i.test(xml);
        await Promise.all(keys.map((k) => commit(bucketName, bucket, { key: k, deleted: true })));
        const deleted = quiet
          ? ''
          : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
        return sendXml(res, 200, `<DeleteResult>${deleted}</DeleteResult>`);
      }
    }
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://local');
      if (mount && url.pathname !== mount && !url.pathname.startsWith(`${mount}/`)) return false;
      const pathname = url.pathname.slice(mount.length) || '/';
      handleRequest(req, res, pathname, url.searchParams).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'InternalError', String(error), pathname);
        else res.destroy();
      });
      return true;
    },
    stats: () => ({ ...counters }),
    resetStats() {
      for (const op of Object.keys(counters) as CosOperation[]) counters[op] = 0;
    },
    injectFault(fault) {
      faults.push({ ...fault, used: 0 });
    },
    clearFaults() {
      faults = [];
    },
    keys(bucket, prefix = '') {
      return (buckets.get(bucket)?.sorted ?? []).filter((k) => k.startsWith(prefix));
    },
    lastModified(bucket, key) {
      return buckets.get(bucket)?.objects.get(key)?.lastModified;
    },
    async flush() {
      while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
    },
  };
}
