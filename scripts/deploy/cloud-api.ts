import type { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { DeployError } from './errors';
import type { JsonObject } from './stack';

/**
 * The few Tencent Cloud API 3.0 calls the deploy makes, through tencentcloud-sdk-nodejs-common's CommonClient:
 * `new CommonClient(host, version, { credential, region, profile })` then `request(action, params)`, which signs
 * with TC3-HMAC-SHA256 and POSTs JSON with the action in X-TC-Action (node_modules/tencentcloud-sdk-nodejs-common
 * tencentcloud/common/abstract_client.js, http/http_connection.js).
 */

export type CloudService = 'scf' | 'cvm' | 'vpc' | 'cam' | 'tat';

/**
 * Host and version of each service, as in tencentcloud-sdk-nodejs src/services/<svc>/<version>/<svc>_client.ts.
 * No API Gateway here, on purpose: it is retired (docs/deploy.md, "What Tencent retired"), and
 * test/deploy/no-api-gateway.test.ts keeps it out.
 */
export const SERVICES: Record<CloudService, { host: string; version: string }> = {
  // https://cloud.tencent.com/document/api/583 (SCF: functions, triggers, function URLs)
  scf: { host: 'scf.tencentcloudapi.com', version: '2018-04-16' },
  // https://cloud.tencent.com/document/api/213 (CVM: the gateway host)
  cvm: { host: 'cvm.tencentcloudapi.com', version: '2017-03-12' },
  // https://cloud.tencent.com/document/api/215 (VPC, subnet, security group)
  vpc: { host: 'vpc.tencentcloudapi.com', version: '2017-03-12' },
  // https://cloud.tencent.com/document/api/598 (CAM: the functions' execution role and its policy)
  cam: { host: 'cam.tencentcloudapi.com', version: '2019-01-16' },
  // https://cloud.tencent.com/document/api/1340 (TAT: run the update script on the gateway host)
  tat: { host: 'tat.tencentcloudapi.com', version: '2020-10-28' },
};

export interface Credentials {
  secretId: string;
  secretKey: string;
  token?: string;
  /** Which variables they came from, for messages. */
  source: string;
}

/**
 * TENCENTCLOUD_SECRET_ID/KEY (and TENCENTCLOUD_SESSION_TOKEN) are the names the SDK's EnvironmentVariableCredential
 * reads; TENCENT_SECRET_ID/KEY (and TENCENT_TOKEN) the ones older Tencent tools used. Either works; nothing else
 * (no file, no profile) is read.
 */
export function readCredentials(env: Record<string, string | undefined>): Credentials {
  const pick = (...names: string[]) => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value) return { name, value };
    }
    return undefined;
  };
  const id = pick('TENCENTCLOUD_SECRET_ID', 'TENCENT_SECRET_ID');
  const key = pick('TENCENTCLOUD_SECRET_KEY', 'TENCENT_SECRET_KEY');
  const token = pick('TENCENTCLOUD_SESSION_TOKEN', 'TENCENT_TOKEN');
  if (!id || !key) {
    const missing = [!id && 'TENCENTCLOUD_SECRET_ID', !key && 'TENCENTCLOUD_SECRET_KEY']
      .filter(Boolean)
      .join(' and ');
    throw new DeployError(
      `Missing Tencent Cloud credentials: ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set`,
      'export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... (TENCENT_SECRET_ID/TENCENT_SECRET_KEY work too; ' +
        'add TENCENTCLOUD_SESSION_TOKEN for temporary keys). Use a CAM sub-user key with the deploy policy of ' +
        'docs/deploy.md ("Permissions"); never put keys in scripts/deploy/tencent-stack.yml or a committed file',
    );
  }
  return {
    secretId: id.value,
    secretKey: key.value,
    token: token?.value,
    source: [id.name, key.name, token?.name].filter(Boolean).join(', '),
  };
}

export class CloudApiError extends Error {
  override readonly name = 'CloudApiError';
  constructor(
    message: string,
    readonly service: CloudService,
    readonly action: string,
    readonly code?: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export interface CloudApi {
  call(service: CloudService, action: string, params: JsonObject): Promise<JsonObject>;
}

export interface CloudApiOptions {
  credentials: Credentials;
  region: string;
  /**
   * Test hook (TENCENTCLOUD_API_ENDPOINT): send every call to this origin instead of <service>.tencentcloudapi.com,
   * e.g. http://127.0.0.1:4000 for a local fake. The SDK joins httpProfile.protocol + endpoint + "/".
   */
  endpoint?: string;
  timeoutSeconds?: number;
}

function parseEndpoint(endpoint: string): { protocol: string; host: string } {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new DeployError(
      `TENCENTCLOUD_API_ENDPOINT "${endpoint}" is not a URL`,
      'unset it (it is a test hook), or give an origin such as http://127.0.0.1:4000',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DeployError(`TENCENTCLOUD_API_ENDPOINT must be http(s), got ${url.protocol}`, 'unset it');
  }
  return { protocol: `${url.protocol}//`, host: url.host };
}

export function createCloudApi(options: CloudApiOptions): CloudApi {
  const override = options.endpoint ? parseEndpoint(options.endpoint) : undefined;
  const clients = new Map<CloudService, CommonClient>();
  const client = async (service: CloudService): Promise<CommonClient> => {
    let found = clients.get(service);
    if (!found) {
      // Loaded on first use: runs that call no API (dry runs, early failures) start faster without it.
      const sdk = await import('tencentcloud-sdk-nodejs-common');
      // Named exports of a CommonJS package come through Node's export detection; `default` always works.
      const Client = sdk.CommonClient ?? (sdk as unknown as { default: typeof sdk }).default.CommonClient;
      const { host, version } = SERVICES[service];
      found = new Client(host, version, {
        credential: {
          secretId: options.credentials.secretId,
          secretKey: options.credentials.secretKey,
          token: options.credentials.token,
        },
        region: options.region,
        profile: {
          httpProfile: {
            reqMethod: 'POST',
            reqTimeout: options.timeoutSeconds ?? 30,
            ...(override ? { endpoint: override.host, protocol: override.protocol } : {}),
          },
        },
      });
      clients.set(service, found);
    }
    return found;
  };
  return {
    async call(service, action, params) {
      let response: unknown;
      try {
        response = await (await client(service)).request(action, params);
      } catch (error) {
        // TencentCloudSDKHttpException: message, code (API error code), requestId, httpCode.
        const e = error as { message?: string; code?: string; requestId?: string; httpCode?: number };
        const code = e.code ?? (e.httpCode ? `HTTP ${e.httpCode}` : undefined);
        throw new CloudApiError(
          `${service}.${action} failed: ${code ? `[${code}] ` : ''}${e.message ?? String(error)}` +
            (e.requestId ? ` (RequestId ${e.requestId})` : ''),
          service,
          action,
          e.code,
          e.requestId,
        );
      }
      if (typeof response !== 'object' || response === null || Array.isArray(response)) {
        throw new CloudApiError(`${service}.${action} returned no Response object`, service, action);
      }
      return response as JsonObject;
    },
  };
}
