import { createHash } from 'crypto';
import http from 'http';
import type { AddressInfo } from 'net';

/**
 * A fake of the COS XML API requests the deploy's bucket step makes through the real cos-nodejs-sdk-v5
 * (scripts/deploy/cos-api.ts), path-style (`/<bucket>/<key>`, the SDK's Domain template `host/{Bucket}`):
 * HEAD/PUT/DELETE bucket, GET bucket (list), HEAD/GET/PUT object, POST ?delete. The project's local COS server
 * (scripts/local/cos-server.ts) has no bucket-level requests, and another stream owns that file.
 * Every request must carry an Authorization header; `owner` decides which buckets answer 403 (another account's).
 */

export interface FakeCos {
  endpoint: string;
  buckets: Map<string, Map<string, Buffer>>;
  /** "PUT bucket", "PUT key", ... in order. */
  log: string[];
  /** Buckets that exist but belong to someone else. */
  foreign: Set<string>;
  failNext(operation: string, status: number, code: string): void;
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startFakeCos(): Promise<FakeCos> {
  const buckets = new Map<string, Map<string, Buffer>>();
  const foreign = new Set<string>();
  const log: string[] = [];
  const failures = new Map<string, { status: number; code: string }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const [, bucketName = '', ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const method = req.method ?? 'GET';
      const operation = key
        ? `${method} key`
        : url.searchParams.has('delete')
          ? 'POST delete'
          : `${method} bucket`;
      const error = (status: number, code: string) => {
        const text = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
        res.writeHead(status, { 'Content-Type': 'application/xml', 'x-cos-request-id': 'fake' });
        res.end(method === 'HEAD' ? undefined : text);
      };
      // A pre-signed URL (the host's download) carries the signature in the query instead.
      if (!req.headers.authorization && !url.searchParams.has('q-sign-algorithm'))
        return error(403, 'AccessDenied');
      log.push(`${operation} ${key}`.trim());
      const failure = failures.get(operation);
      if (failure) {
        failures.delete(operation);
        return error(failure.status, failure.code);
      }
      if (foreign.has(bucketName)) return error(403, 'AccessDenied');
      const bucket = buckets.get(bucketName);
      if (!key && method === 'PUT') {
        if (bucket) return error(409, 'BucketAlreadyOwnedByYou');
        buckets.set(bucketName, new Map());
        res.writeHead(200, { 'x-cos-request-id': 'fake' });
        return res.end();
      }
      if (!bucket) return error(404, 'NoSuchBucket');
      if (!key && method === 'HEAD') {
        res.writeHead(200, { 'x-cos-request-id': 'fake' });
        return res.end();
      }
      if (!key && method === 'DELETE') {
        if (bucket.size > 0) return error(409, 'BucketNotEmpty');
        buckets.delete(bucketName);
        res.writeHead(204);
        return res.end();
      }
      if (!key && method === 'GET') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort();
        const contents = keys
          .map(
            (k) =>
              `<Contents><Key>${xml(k)}</Key><ETag>"${md5(bucket.get(k)!)}"</ETag><Size>${bucket.get(k)!.length}</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>`,
          )
          .join('');
        res.writeHead(200, { 'Content-Type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucketName}</Name><Prefix>${xml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
        );
      }
      if (operation === 'POST delete') {
        const keys = [...body.toString('utf8').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) =>
          m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
        );
        for (const k of keys) bucket.delete(k);
        res.writeHead(200, { 'Content-Type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${keys.map((k) => `<Deleted><Key>${xml(k)}</Key></Deleted>`).join('')}</DeleteResult>`,
        );
      }
      if (method === 'PUT') {
        bucket.set(key, body);
        res.writeHead(200, { ETag: `"${md5(body)}"`, 'x-cos-request-id': 'fake' });
        return res.end();
      }
      const object = bucket.get(key);
      if (!object) return error(404, 'NoSuchKey');
      res.writeHead(200, {
        ETag: `"${md5(object)}"`,
        'Content-Length': object.length,
        'x-cos-request-id': 'fake',
      });
      return res.end(method === 'HEAD' ? undefined : object);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    log,
    foreign,
    failNext(operation, status, code) {
      failures.set(operation, { status, code });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}
