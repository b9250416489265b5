import { createHash, randomBytes } from 'crypto';
import { promises as fs, readdirSync, readFileSync, mkdirSync } from 'fs';
import type { IncomingMessage, ServerResponse } from 'http';
import path from 'path';
import { xmlEscape, xmlUnescape } from '../../code/cos/list-xml';

/**
 * A COS-compatible object store for local runs and tests: the subset of the COS XML API this project uses
 * (PUT/GET/HEAD/DELETE object, GET bucket with prefix/marker/max-keys/delimiter, POST ?delete), path-style
 * (`/<bucket>/<key>`, which the real SDK sends when its Domain option is `host/{Bucket}`), COS-shaped XML errors,
 * and persistence to a data directory. Response shapes follow shared/docs/cos-sdk-local.md §5.
 * Signatures are not checked, but a request without an Authorization header is refused, as COS would.
 */

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

export function createCosServer(options: {
  dataDir?: string;
  buckets: string[];
  mountPath?: string;
}): CosServer {
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

  for (const name of options.buckets) {
    const bucket = new Bucket();
    buckets.set(name, bucket);
    if (options.dataDir) {
      const dir = path.join(options.dataDir, name);
      mkdirSync(dir, { recursive: true });
      for (const file of readdirSync(dir)) {
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
          // A half-written file from a crash: skip it rather than refuse to start.
        }
      }
    }
  }

  /** Writes to one file run in order, so a delete cannot overtake the put before it. */
  const fileQueues = new Map<string, Promise<void>>();

  function enqueue(file: string, write: () => Promise<void>): void {
    const queued = (fileQueues.get(file) ?? Promise.resolve()).then(write).catch(() => undefined);
    fileQueues.set(file, queued);
    pendingWrites.add(queued);
    void queued.finally(() => {
      pendingWrites.delete(queued);
      if (fileQueues.get(file) === queued) fileQueues.delete(file);
    });
  }

  function persist(bucketName: string, object: StoredObject | { key: string; deleted: true }): void {
    if (!options.dataDir) return;
    const file = path.join(options.dataDir, bucketName, fileNameOf(object.key));
    if ('deleted' in object) {
      enqueue(file, () => fs.rm(file, { force: true }));
      return;
    }
    const json = JSON.stringify({ ...object, body: object.body.toString('base64') });
    // Write then rename, so a crash never leaves a torn object behind.
    enqueue(file, async () => {
      const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(temp, json);
      await fs.rename(temp, file);
    });
  }

  function requestId(): string {
    return randomBytes(12).toString('hex');
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

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
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

  function listBucket(res: ServerResponse, name: string, bucket: Bucket, query: URLSearchParams): void {
    const prefix = query.get('prefix') ?? '';
    const marker = query.get('marker') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = Math.max(0, Math.min(MAX_KEYS, Number(query.get('max-keys') ?? MAX_KEYS) || MAX_KEYS));
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
    const items = contents
      .map(
        (o) =>
          `<Contents><Key>${xmlEscape(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>` +
          `<StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    const prefixes = commonPrefixes
      .map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`)
      .join('');
    sendXml(
      res,
      200,
      `<ListBucketResult><Name>${xmlEscape(name)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><Marker>${xmlEscape(marker)}</Marker>` +
        `<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${xmlEscape(delimiter)}</Delimiter><IsTruncated>${truncated}</IsTruncated>` +
        // COS sends NextMarker whenever the listing is truncated (S3 v1 only does so with a delimiter).
        (truncated ? `<NextMarker>${xmlEscape(last)}</NextMarker>` : '') +
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
    const body = await readBody(req);
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
    if (!req.headers.authorization) {
      return sendError(res, 403, 'AccessDenied', 'Access Denied.', pathname);
    }
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
        const object: StoredObject = {
          key,
          body,
          etag: `"${createHash('md5').update(body).digest('hex')}"`,
          lastModified: Date.now(),
          contentType: req.headers['content-type'] ?? 'application/octet-stream',
        };
        bucket.set(object);
        persist(bucketName, object);
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
        if (bucket.delete(key)) persist(bucketName, { key, deleted: true });
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
        for (const k of keys) if (bucket.delete(k)) persist(bucketName, { key: k, deleted: true });
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
