import { createHash, createHmac, randomBytes } from 'crypto';
import http from 'http';
import type { AddressInfo } from 'net';

/**
 * An in-process fake of the Tencent Cloud API 3.0 endpoints the deploy calls (apigateway 2018-08-08, scf
 * 2018-04-16), reached through the SDK's endpoint setting (TENCENTCLOUD_API_ENDPOINT=http://127.0.0.1:<port>).
 *
 * It checks the request the way the real gateway does, enough to matter: POST / with a JSON body, the action in
 * X-TC-Action, the version in X-TC-Version, X-TC-Timestamp and X-TC-Region, and a TC3-HMAC-SHA256 Authorization whose
 * signature it recomputes with the secret key (https://cloud.tencent.com/document/api/213/30654). A request that
 * fails a check gets the API's error envelope, as the real one would, and is recorded in `rejected`.
 *
 * The fake CLI and fake npm report to /__fake/control, so `timeline` is one ordered record of everything the deploy
 * did: tool runs and API calls.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface FakeVariable {
  Key: string;
  Value: string;
}

export interface FakeFunction {
  FunctionName: string;
  Namespace: string;
  Status: string;
  Environment: { Variables: FakeVariable[] };
  Timeout: number;
  MemorySize: number;
  Handler: string;
  Runtime: string;
  Role: string;
  /** GetFunction answers Updating this many more times (after an update), then Active. */
  busyFor: number;
}

export interface FakeApi {
  ApiId: string;
  Path: string;
  Method: string;
  Protocol: string;
  InternalDomain: string;
  transport?: string;
  register?: string;
  cleanup?: string;
  functionName?: string;
}

export interface FakeService {
  ServiceId: string;
  ServiceName: string;
  OuterSubDomain: string;
  Protocol: string;
  published: string[];
  apis: FakeApi[];
}

export interface ApiRequest {
  action: string;
  version: string;
  region: string;
  params: JsonObject;
}

export interface FakeCloud {
  /** Origin for TENCENTCLOUD_API_ENDPOINT. */
  url: string;
  controlUrl: string;
  requests: ApiRequest[];
  rejected: string[];
  /** Every tool run and API call, in order: "npm run build", "scf deploy register", "api GetFunction ...". */
  timeline: string[];
  functions: Map<string, FakeFunction>;
  services: FakeService[];
  /** The next `times` calls of `action` fail with this API error. */
  failNext(action: string, code: string, message: string, times?: number): void;
  addFunction(name: string, variables: Record<string, string>): FakeFunction;
  /** What the apigateway component does: create or update the service, its APIs, and publish it. */
  deployGateway(body: JsonObject): JsonObject;
  close(): Promise<void>;
}

const VERSIONS: Record<string, string> = {
  DescribeServicesStatus: '2018-08-08',
  DescribeService: '2018-08-08',
  DescribeServiceEnvironmentList: '2018-08-08',
  DescribeApisStatus: '2018-08-08',
  DescribeApi: '2018-08-08',
  GetFunction: '2018-04-16',
  UpdateFunctionConfiguration: '2018-04-16',
};

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function utcDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: JsonObject, key: string): string {
  const value = obj[key];
  return typeof value === 'string' ? value : '';
}

function filterValues(params: JsonObject, name: string): string[] | undefined {
  const filters = Array.isArray(params.Filters) ? params.Filters.filter(isObject) : [];
  const found = filters.find((f) => f.Name === name);
  return found && Array.isArray(found.Values) ? found.Values.map(String) : undefined;
}

export async function startFakeCloud(keys: {
  secretId: string;
  secretKey: string;
  token?: string;
}): Promise<FakeCloud> {
  const requests: ApiRequest[] = [];
  const rejected: string[] = [];
  const timeline: string[] = [];
  const functions = new Map<string, FakeFunction>();
  const services: FakeService[] = [];
  const failures = new Map<string, { code: string; message: string; times: number }>();

  const addFunction = (name: string, variables: Record<string, string>): FakeFunction => {
    const fn: FakeFunction = {
      FunctionName: name,
      Namespace: 'default',
      Status: 'Active',
      Environment: { Variables: Object.entries(variables).map(([Key, Value]) => ({ Key, Value })) },
      Timeout: 3,
      MemorySize: 128,
      Handler: 'index.main_handler',
      Runtime: 'Nodejs16.13',
      Role: '',
      busyFor: 0,
    };
    functions.set(name, fn);
    return fn;
  };

  /** Checks a request as API 3.0 would; returns the parsed parameters or throws ApiError. */
  function verify(
    req: http.IncomingMessage,
    body: string,
  ): { action: string; version: string; region: string; params: JsonObject } {
    if (req.method !== 'POST' || req.url !== '/') throw new ApiError('InvalidParameter', 'expected POST /');
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : '';
    };
    const contentType = header('content-type');
    if (contentType !== 'application/json')
      throw new ApiError('InvalidParameter', `content-type ${contentType}`);
    const action = header('x-tc-action');
    const version = header('x-tc-version');
    const region = header('x-tc-region');
    const timestamp = Number(header('x-tc-timestamp'));
    if (!action) throw new ApiError('MissingParameter', 'X-TC-Action is missing');
    if (!VERSIONS[action]) throw new ApiError('InvalidAction', `unknown action ${action}`);
    if (version !== VERSIONS[action])
      throw new ApiError('InvalidParameter', `${action} needs version ${VERSIONS[action]}`);
    if (!region) throw new ApiError('MissingParameter', 'X-TC-Region is missing');
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > 300) {
      throw new ApiError(
        'AuthFailure.SignatureExpire',
        'X-TC-Timestamp is missing or off by more than 5 minutes',
      );
    }
    if (keys.token !== undefined && header('x-tc-token') !== keys.token) {
      throw new ApiError('AuthFailure.TokenFailure', 'X-TC-Token does not match');
    }
    const auth =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})$/.exec(
        header('authorization'),
      );
    if (!auth) throw new ApiError('AuthFailure.InvalidAuthorization', 'Authorization is not TC3-HMAC-SHA256');
    const [, secretId, date, service, signedHeaders, signature] = auth as unknown as string[];
    if (secretId !== keys.secretId)
      throw new ApiError('AuthFailure.SecretIdNotFound', `unknown SecretId ${secretId}`);
    if (date !== utcDate(timestamp))
      throw new ApiError('AuthFailure.SignatureFailure', 'credential date mismatch');
    if (signedHeaders !== 'content-type;host')
      throw new ApiError('AuthFailure.SignatureFailure', 'signed headers');
    const hostname = header('host').replace(/:\d+$/, '');
    const canonical = [
      'POST',
      '/',
      '',
      `content-type:${contentType}\nhost:${hostname}\n`,
      signedHeaders,
      sha256(body),
    ].join('\n');
    const toSign = [
      'TC3-HMAC-SHA256',
      String(timestamp),
      `${date}/${service}/tc3_request`,
      sha256(canonical),
    ].join('\n');
    const signingKey = hmac(hmac(hmac(`TC3${keys.secretKey}`, date!), service!), 'tc3_request');
    if (createHmac('sha256', signingKey).update(toSign).digest('hex') !== signature) {
      throw new ApiError('AuthFailure.SignatureFailure', 'the signature does not match');
    }
    let params: unknown;
    try {
      params = JSON.parse(body);
    } catch {
      throw new ApiError('InvalidParameter', 'the body is not JSON');
    }
    if (!isObject(params)) throw new ApiError('InvalidParameter', 'the body is not a JSON object');
    return { action, version, region, params };
  }

  function serviceById(params: JsonObject): FakeService {
    const service = services.find((s) => s.ServiceId === str(params, 'ServiceId'));
    if (!service)
      throw new ApiError('ResourceNotFound.InvalidService', `no service ${str(params, 'ServiceId')}`);
    return service;
  }

  function functionOf(params: JsonObject): FakeFunction {
    const fn = functions.get(str(params, 'FunctionName'));
    if (!fn || (str(params, 'Namespace') || 'default') !== fn.Namespace) {
      throw new ApiError('ResourceNotFound.Function', `function ${str(params, 'FunctionName')} not found`);
    }
    return fn;
  }

  const handlers: Record<string, (params: JsonObject) => JsonObject> = {
    DescribeServicesStatus(params) {
      const names = filterValues(params, 'ServiceName');
      // The real filter matches loosely; the deploy must pick the exact name itself.
      const set = services.filter((s) => !names || names.some((n) => s.ServiceName.includes(n)));
      return {
        Result: {
          TotalCount: set.length,
          ServiceSet: set.map((s) => ({
            ServiceId: s.ServiceId,
            ServiceName: s.ServiceName,
            OuterSubDomain: s.OuterSubDomain,
            Protocol: s.Protocol,
            AvailableEnvironments: s.published,
          })),
        },
      };
    },
    DescribeServiceEnvironmentList(params) {
      const service = serviceById(params);
      const list = ['test', 'prepub', 'release'].map((name) => ({
        EnvironmentName: name,
        Url: `https://${service.OuterSubDomain}/${name}`,
        Status: service.published.includes(name) ? 1 : 0,
        VersionName: service.published.includes(name) ? '20240101000000' : '',
      }));
      return { Result: { TotalCount: list.length, EnvironmentList: list } };
    },
    DescribeApisStatus(params) {
      const service = serviceById(params);
      const paths = filterValues(params, 'ApiPath');
      const set = service.apis.filter((a) => !paths || paths.includes(a.Path));
      return {
        Result: {
          TotalCount: set.length,
          ApiIdStatusSet: set.map((a) => ({
            ServiceId: service.ServiceId,
            ApiId: a.ApiId,
            Path: a.Path,
            Method: a.Method,
            Protocol: a.Protocol,
            ApiName: a.Path,
          })),
        },
      };
    },
    DescribeApi(params) {
      const service = serviceById(params);
      const api = service.apis.find((a) => a.ApiId === str(params, 'ApiId'));
      if (!api) throw new ApiError('ResourceNotFound.InvalidApi', `no API ${str(params, 'ApiId')}`);
      return {
        Result: {
          ServiceId: service.ServiceId,
          ApiId: api.ApiId,
          Path: api.Path,
          Method: api.Method,
          Protocol: api.Protocol,
          InternalDomain: api.InternalDomain,
          ServiceType: 'SCF',
          ...(api.Protocol === 'WEBSOCKET'
            ? {
                ServiceWebsocketTransportFunctionName: api.transport ?? '',
                ServiceWebsocketRegisterFunctionName: api.register ?? '',
                ServiceWebsocketCleanupFunctionName: api.cleanup ?? '',
              }
            : { ServiceScfFunctionName: api.functionName ?? '' }),
        },
      };
    },
    GetFunction(params) {
      const fn = functionOf(params);
      let status = fn.Status;
      if (fn.busyFor > 0) {
        fn.busyFor -= 1;
        status = 'Updating';
      }
      return {
        FunctionName: fn.FunctionName,
        Namespace: fn.Namespace,
        Status: status,
        Environment: { Variables: fn.Environment.Variables.map((v) => ({ ...v })) },
        Timeout: fn.Timeout,
        MemorySize: fn.MemorySize,
        Handler: fn.Handler,
        Runtime: fn.Runtime,
        Role: fn.Role,
      };
    },
    UpdateFunctionConfiguration(params) {
      const fn = functionOf(params);
      if (fn.busyFor > 0)
        throw new ApiError('FailedOperation.UpdateFunctionConfiguration', 'function is updating');
      const environment = params.Environment;
      if (isObject(environment) && Array.isArray(environment.Variables)) {
        // The variable list is replaced as a whole, as SCF does.
        fn.Environment.Variables = environment.Variables.filter(isObject).map((v) => ({
          Key: str(v, 'Key'),
          Value: str(v, 'Value'),
        }));
      }
      // Anything else sent is applied too, so that a deploy that clobbers settings shows up in the tests.
      if (typeof params.Timeout === 'number') fn.Timeout = params.Timeout;
      if (typeof params.MemorySize === 'number') fn.MemorySize = params.MemorySize;
      if (typeof params.Role === 'string') fn.Role = params.Role;
      fn.busyFor = 1;
      return {};
    },
  };

  function deployGateway(body: JsonObject): JsonObject {
    const name = str(body, 'serviceName');
    let service = services.find((s) => s.ServiceName === name);
    if (!service) {
      const id = randomBytes(4).toString('hex');
      service = {
        ServiceId: `service-${id}`,
        ServiceName: name,
        OuterSubDomain: `service-${id}-1250000000.gz.apigw.tencentcs.com`,
        Protocol: 'http&https',
        published: [],
        apis: [],
      };
      services.push(service);
    }
    const endpoints = Array.isArray(body.endpoints) ? body.endpoints.filter(isObject) : [];
    service.apis = endpoints.map((e) => {
      const fn = isObject(e.function) ? e.function : {};
      const existing = service!.apis.find((a) => a.Path === str(e, 'path') && a.Method === str(e, 'method'));
      const apiId = existing?.ApiId ?? `api-${randomBytes(4).toString('hex')}`;
      const websocket = str(e, 'protocol').toUpperCase() === 'WEBSOCKET';
      return {
        ApiId: apiId,
        Path: str(e, 'path'),
        Method: str(e, 'method'),
        Protocol: websocket ? 'WEBSOCKET' : 'HTTP',
        InternalDomain: websocket ? `http://set-fake.cb-guangzhou.apigateway.tencentyun.com/${apiId}` : '',
        transport: str(fn, 'transportFunctionName'),
        register: str(fn, 'registerFunctionName'),
        cleanup: str(fn, 'cleanupFunctionName'),
        functionName: str(fn, 'functionName'),
      };
    });
    const environment = str(body, 'environment') || 'release';
    if (!service.published.includes(environment)) service.published.push(environment);
    return {
      serviceId: service.ServiceId,
      subDomain: service.OuterSubDomain,
      apis: service.apis.map((a) => ({
        path: a.Path,
        method: a.Method,
        apiId: a.ApiId,
        internalDomain: a.InternalDomain,
      })),
    };
  }

  function control(body: JsonObject): JsonObject {
    if (body.op === 'tool') {
      timeline.push(str(body, 'entry'));
      return {};
    }
    if (body.op === 'deployFunction') {
      const variables: Record<string, string> = {};
      if (isObject(body.variables))
        for (const [k, v] of Object.entries(body.variables)) variables[k] = String(v);
      const fn = addFunction(str(body, 'name'), variables);
      fn.Timeout = Number(body.timeout ?? 3);
      fn.MemorySize = Number(body.memorySize ?? 128);
      fn.Role = str(body, 'role');
      return {};
    }
    if (body.op === 'deployGateway') return deployGateway(body);
    throw new ApiError('InvalidParameter', `unknown control op ${String(body.op)}`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const requestId = randomBytes(8).toString('hex');
      const send = (payload: JsonObject) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-TC-TraceId': requestId });
        res.end(JSON.stringify(payload));
      };
      if (req.url === '/__fake/control') {
        try {
          send(control(JSON.parse(body) as JsonObject));
        } catch (error) {
          res.writeHead(400);
          res.end(String(error));
        }
        return;
      }
      let action = '?';
      try {
        const checked = verify(req, body);
        action = checked.action;
        requests.push(checked);
        timeline.push(
          `api ${action} ${str(checked.params, 'FunctionName') || str(checked.params, 'ServiceId')}`.trimEnd(),
        );
        const failure = failures.get(action);
        if (failure && failure.times > 0) {
          failure.times -= 1;
          throw new ApiError(failure.code, failure.message);
        }
        send({ Response: { ...handlers[action]!(checked.params), RequestId: requestId } });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code.startsWith('AuthFailure') || action === '?')
          rejected.push(`${error.code}: ${error.message}`);
        send({ Response: { Error: { Code: error.code, Message: error.message }, RequestId: requestId } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    controlUrl: `${url}/__fake/control`,
    requests,
    rejected,
    timeline,
    functions,
    services,
    failNext(action, code, message, times = 1) {
      failures.set(action, { code, message, times });
    },
    addFunction,
    deployGateway,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
