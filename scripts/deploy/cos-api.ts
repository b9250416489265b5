import COS from 'cos-nodejs-sdk-v5';
import type { Credentials } from './cloud-api';

/**
 * The bucket work of the deploy, over cos-nodejs-sdk-v5 (COS is not in the Cloud API 3.0 SDK). Every call is one
 * COS XML API request: headBucket, putBucket, headObject, putObject, getObjectUrl (a pre-signed GET, computed
 * locally), getBucket (list), deleteMultipleObject, deleteBucket (https://cloud.tencent.com/document/product/436/7751).
 */

export interface BucketApi {
  /** 'mine' when it exists and we may use it, 'missing' on 404, 'foreign' when another account owns the name. */
  headBucket(): Promise<'mine' | 'missing' | 'foreign'>;
  putBucket(): Promise<void>;
  /** The object's ETag without quotes (the MD5 of a simple PUT), or undefined when it does not exist. */
  headObject(key: string): Promise<string | undefined>;
  getObject(key: string): Promise<string | undefined>;
  putObject(key: string, body: Buffer | string, contentType: string): Promise<void>;
  /** A pre-signed GET URL valid for `seconds`: how the gateway host fetches its release without any key. */
  signedUrl(key: string, seconds: number): string;
  listKeys(prefix: string): Promise<string[]>;
  deleteKeys(keys: string[]): Promise<void>;
  deleteBucket(): Promise<void>;
}

export interface BucketApiOptions {
  credentials: Credentials;
  bucket: string;
  region: string;
  /** Test hook (DEPLOY_COS_ENDPOINT): path-style requests to this origin instead of <bucket>.cos.<region>.myqcloud.com. */
  endpoint?: string;
}

interface SdkError {
  statusCode?: number;
  code?: string;
  message?: string;
  error?: { Code?: string; Message?: string };
}

export class CosApiError extends Error {
  override readonly name = 'CosApiError';
  constructor(
    message: string,
    readonly operation: string,
    readonly statusCode?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

function failure(operation: string, error: unknown): CosApiError {
  const e = (error ?? {}) as SdkError;
  const code = e.error?.Code ?? e.code;
  const message = e.error?.Message ?? e.message ?? String(error);
  return new CosApiError(
    `cos.${operation} failed: ${[e.statusCode, code].filter(Boolean).join(' ')} ${message}`.trim(),
    operation,
    e.statusCode,
    code,
  );
}

export function createBucketApi(options: BucketApiOptions): BucketApi {
  const cosOptions: COS.COSOptions = {
    SecretId: options.credentials.secretId,
    SecretKey: options.credentials.secretKey,
    SecurityToken: options.credentials.token,
    Timeout: 60_000,
  };
  if (options.endpoint) {
    const url = new URL(options.endpoint);
    cosOptions.Protocol = url.protocol as 'http:' | 'https:';
    cosOptions.Domain = `${url.host}${url.pathname.replace(/\/+$/, '')}/{Bucket}`;
    cosOptions.ServiceDomain = url.host;
    cosOptions.AutoSwitchHost = false;
  }
  const cos = new COS(cosOptions);
  const Bucket = options.bucket;
  const Region = options.region;
  const run = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw failure(operation, error);
    }
  };
  const notFound = (error: unknown) => {
    const e = (error ?? {}) as SdkError;
    return e.statusCode === 404;
  };

  return {
    async headBucket() {
      try {
        await cos.headBucket({ Bucket, Region });
        return 'mine';
      } catch (error) {
        const e = (error ?? {}) as SdkError;
        if (e.statusCode === 404) return 'missing';
        if (e.statusCode === 403) return 'foreign';
        throw failure('headBucket', error);
      }
    },
    async putBucket() {
      await run('putBucket', () => cos.putBucket({ Bucket, Region, ACL: 'private' }));
    },
    async headObject(key) {
      try {
        const result = await cos.headObject({ Bucket, Region, Key: key });
        return String(result.ETag ?? '').replace(/"/g, '');
      } catch (error) {
        if (notFound(error)) return undefined;
        throw failure('headObject', error);
      }
    },
    async getObject(key) {
      try {
        const result = await cos.getObject({ Bucket, Region, Key: key });
        return Buffer.isBuffer(result.Body) ? result.Body.toString('utf8') : String(result.Body);
      } catch (error) {
        if (notFound(error)) return undefined;
        throw failure('getObject', error);
      }
    },
    async putObject(key, body, contentType) {
      await run('putObject', () =>
        cos.putObject({ Bucket, Region, Key: key, Body: body, ContentType: contentType }),
      );
    },
    signedUrl(key, seconds) {
      return cos.getObjectUrl({ Bucket, Region, Key: key, Sign: true, Expires: seconds }, () => undefined);
    },
    async listKeys(prefix) {
      const keys: string[] = [];
      let marker: string | undefined;
      for (;;) {
        const page = await run('getBucket', () =>
          cos.getBucket({ Bucket, Region, Prefix: prefix, Marker: marker, MaxKeys: 1000 }),
        );
        keys.push(...page.Contents.map((c) => c.Key));
        if (page.IsTruncated !== 'true' || page.Contents.length === 0) return keys;
        marker = page.NextMarker ?? page.Contents[page.Contents.length - 1]!.Key;
      }
    },
    async deleteKeys(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
        const result = await run('deleteMultipleObject', () =>
          cos.deleteMultipleObject({ Bucket, Region, Objects: batch }),
        );
        if (result.Error && result.Error.length > 0) {
          throw new CosApiError(
            `cos.deleteMultipleObject refused ${result.Error.length} key(s): ${result.Error[0]?.Code} ${result.Error[0]?.Message}`,
            'deleteMultipleObject',
            403,
            result.Error[0]?.Code,
          );
        }
      }
    },
    async deleteBucket() {
      await run('deleteBucket', () => cos.deleteBucket({ Bucket, Region }));
    },
  };
}
