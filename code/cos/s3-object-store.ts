import http from 'http';
import https from 'https';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../config-aws';
import { StoreError } from '../util/store-error';
import type { ListPage, ObjectStore } from './object-store';
import { allPages, COS_PAGE_SIZE, inPages, unlessMissing } from './paging';

/**
 * The object-store port over Amazon S3 and the official `@aws-sdk/client-s3`: the registry and the history run on
 * it unchanged. Same contract as the COS store: keys relative to the prefix, a page's `nextMarker` is the last key
 * (S3's StartAfter takes a key, so a marker stays meaningful across both stores), missing objects read as
 * undefined, every SDK error becomes a StoreError.
 */

type SdkError = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };

function describe(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  return [e.$metadata?.httpStatusCode, e.name, e.message]
    .filter((p) => p !== undefined && p !== '')
    .join(' ');
}

function isNotCreated(error: unknown): boolean {
  const status = (error as SdkError | undefined)?.$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}

function isNotFound(error: unknown): boolean {
  const e = (error ?? {}) as SdkError;
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export function createS3Client(settings: S3Settings, localCredentials = false): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  return new S3Client({
    region: settings.region,
    // Only a local server needs an endpoint; it is addressed path-style (/bucket/key), as S3-compatible servers are.
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(localCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // Checksums only where S3 requires them (DeleteObjects): a JSON object of a few hundred bytes needs none.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      requestTimeout: settings.timeoutMs,
      connectionTimeout: settings.timeoutMs,
    },
  });
}

export function createS3ObjectStore(
  settings: S3Settings,
  s3: S3Client = createS3Client(settings),
): ObjectStore {
  const { bucket: Bucket, keyPrefix } = settings;
  let requestCount = 0;

  async function call<T>(operation: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    requestCount += 1;
    try {
      // The SDK retries throttling, 5xx and network errors itself; the signal bounds the whole call.
      return await run(AbortSignal.timeout(settings.timeoutMs));
    } catch (error) {
      throw new StoreError(`S3 ${operation} failed: ${describe(error) || 'error'}`, error);
    }
  }

  async function list(
    prefix: string,
    options: { marker?: string; maxKeys?: number } = {},
  ): Promise<ListPage> {
    const result = await call('ListObjectsV2', (abortSignal) =>
      s3.send(
        new ListObjectsV2Command({
          Bucket,
          Prefix: keyPrefix + prefix,
          MaxKeys: options.maxKeys ?? COS_PAGE_SIZE,
          ...(options.marker !== undefined ? { StartAfter: keyPrefix + options.marker } : {}),
        }),
        { abortSignal },
      ),
    );
    const objects = (result.Contents ?? []).flatMap((item) =>
      item.Key === undefined
        ? []
        : [
            {
              key: item.Key.slice(keyPrefix.length),
              lastModified: item.LastModified?.getTime() ?? 0,
              etag: (item.ETag ?? '').replace(/"/g, ''),
            },
          ],
    );
    if (!result.IsTruncated || objects.length === 0) return { objects };
    return { objects, nextMarker: objects[objects.length - 1]!.key };
  }

  return {
    get requestCount() {
      return requestCount;
    },

    async put(key, body) {
      await call('PutObject', (abortSignal) =>
        s3.send(
          new PutObjectCommand({ Bucket, Key: keyPrefix + key, Body: body, ContentType: 'application/json' }),
          { abortSignal },
        ),
      );
    },

    async putNew(key, body) {
      try {
        // S3 conditional write: 412 when the key exists, 409 while another conditional write of it is under way.
        await call('PutObject', (abortSignal) =>
          s3.send(
            new PutObjectCommand({
              Bucket,
              Key: keyPrefix + key,
              Body: body,
              ContentType: 'application/json',
              IfNoneMatch: '*',
            }),
            { abortSignal },
          ),
        );
        return true;
      } catch (error) {
        if (error instanceof StoreError && isNotCreated(error.cause)) return false;
        throw error;
      }
    },

    get: (key) =>
      unlessMissing(
        call('GetObject', (abortSignal) =>
          s3.send(new GetObjectCommand({ Bucket, Key: keyPrefix + key }), { abortSignal }).then(
            // Read the body inside the deadline: the stream is the slow part.
            async (answer) => (answer.Body ? await answer.Body.transformToString('utf8') : ''),
          ),
        ),
        isNotFound,
      ),

    list,

    listAll: (prefix, after) => allPages(list, prefix, after),

    deleteMany: (keys) =>
      inPages(keys, async (page) => {
        const batch = page.map((key) => ({ Key: keyPrefix + key }));
        const result = await call('DeleteObjects', (abortSignal) =>
          s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch, Quiet: true } }), {
            abortSignal,
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0)
          throw new StoreError(`S3 refused to delete ${failed.length} object(s): ${failed[0]?.Code}`, failed);
      }),
  };
}
