import { createHash, createHmac, randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import { inflateRawSync } from 'zlib';

/**
 * An in-process fake of every Tencent Cloud API 3.0 action the deploy calls (scf 2018-04-16, cvm and vpc 2017-03-12,
 * cam 2019-01-16, tat 2020-10-28), reached through the SDK's endpoint setting (TENCENTCLOUD_API_ENDPOINT).
 *
 * Built from the SDK's own models: fixtures/sdk-models.json lists, for each action, the request fields (and which
 * are required) and the response fields, extracted from TencentCloud/tencentcloud-sdk-nodejs
 * src/services/<svc>/<version>/<svc>_models.ts (the commit is in the file). A request with a field the model does
 * not have, or without a required one, is refused with InvalidParameter / MissingParameter, as the real API does; a
 * handler that answers a field the model does not have fails the test. Requests are checked like API 3.0 checks
 * them: POST / with JSON, X-TC-Action / X-TC-Version / X-TC-Timestamp / X-TC-Region, and a TC3-HMAC-SHA256
 * signature recomputed with the secret key (https://cloud.tencent.com/document/api/213/30654).
 *
 * Asynchronous things are asynchronous here too: a new or updated function answers Creating/Updating to the next
 * GetFunction, a new instance answers PENDING once, a command answers RUNNING once.
 *
 * To regenerate the fixture: for each action A of the deploy, take the fields of `export interface ARequest` and
 * `export interface AResponse` in the models file (a field is required when it has no `?`).
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Field name → [TypeScript type as the SDK writes it, required]. */
type Fields = Record<string, [string, boolean]>;

interface ModelFile {
  _source: string;
  actions: Record<string, { service: string; request: Fields; response: Fields }>;
  /** Per service: every structure the actions' fields reach (Code, Environment, Variable, Instance, ...). */
  structs: Record<string, Record<string, Fields>>;
}

export const MODELS = JSON.parse(
  readFileSync(path.join(__dirname, 'fixtures', 'sdk-models.json'), 'utf8'),
) as ModelFile;

/**
 * Checks `value` against an SDK type: primitives by typeof, `Array<T>` item by item, a structure field by field
 * (unknown fields and missing required ones are problems), unions when one member fits. Returns the problems.
 */
export function modelProblems(service: string, type: string, value: unknown, where: string): string[] {
  const t = type.trim();
  const union = t.split('|').map((m) => m.trim());
  if (union.length > 1 && !t.startsWith('Array<')) {
    const results = union.map((m) => modelProblems(service, m, value, where));
    return results.some((r) => r.length === 0) ? [] : results[0]!;
  }
  const array = /^Array<(.+)>$/.exec(t);
  if (array) {
    if (!Array.isArray(value)) return [`${where} must be an array (${t})`];
    return value.flatMap((item, i) => modelProblems(service, array[1]!, item, `${where}[${i}]`));
  }
  if (t === 'string') return typeof value === 'string' ? [] : [`${where} must be a string`];
  if (t === 'number' || t === 'bigint') return typeof value === 'number' ? [] : [`${where} must be a number`];
  if (t === 'boolean') return typeof value === 'boolean' ? [] : [`${where} must be a boolean`];
  if (t === 'null') return value === null ? [] : [`${where} must be null`];
  const struct = MODELS.structs[service]?.[t];
  if (!struct) return [];
  return fieldProblems(service, struct, value, where);
}

export function fieldProblems(service: string, fields: Fields, value: unknown, where: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${where} must be an object`];
  const problems: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const field = fields[key];
    if (!field) problems.push(`${where}.${key} is not a field of the model`);
    else if (item !== undefined) problems.push(...modelProblems(service, field[0], item, `${where}.${key}`));
  }
  for (const [key, [, required]] of Object.entries(fields)) {
    if (required && (value as Record<string, unknown>)[key] === undefined)
      problems.push(`${where}.${key} is required`);
  }
  return problems;
}

const VERSIONS: Record<string, string> = {
  scf: '2018-04-16',
  cvm: '2017-03-12',
  vpc: '2017-03-12',
  cam: '2019-01-16',
  tat: '2020-10-28',
};

export interface FakeFunction {
  FunctionName: string;
  Namespace: string;
  Status: string;
  Runtime: string;
  Handler: string;
  Description: string;
  MemorySize: number;
  Timeout: number;
  Role: string;
  Type: string;
  Environment: { Variables: { Key: string; Value: string }[] };
  VpcConfig: { VpcId: string; SubnetId: string };
  PublicNetConfig: { PublicNetStatus: string };
  Tags: { Key: string; Value: string }[];
  /** Files of the last zip, name → content. */
  code: Record<string, string>;
  triggers: JsonObject[];
  /** GetFunction answers Updating this many more times. */
  busyFor: number;
}

export interface FakeInstance {
  InstanceId: string;
  InstanceName: string;
  InstanceState: string;
  InstanceType: string;
  ImageId: string;
  PrivateIpAddresses: string[];
  PublicIpAddresses: string[];
  SecurityGroupIds: string[];
  Tags: { Key: string; Value: string }[];
  VirtualPrivateCloud: JsonObject;
  Placement: JsonObject;
  userData: string;
  pendingFor: number;
}

export interface ApiRequest {
  action: string;
  service: string;
  region: string;
  params: JsonObject;
}

export interface FakeCloud {
  url: string;
  requests: ApiRequest[];
  /** Requests refused for their form (signature, unknown or missing fields): a correct deploy makes none. */
  rejected: string[];
  functions: Map<string, FakeFunction>;
  instances: FakeInstance[];
  vpcs: JsonObject[];
  subnets: JsonObject[];
  securityGroups: (JsonObject & { policies: JsonObject })[];
  roles: Map<string, JsonObject>;
  policies: Map<number, JsonObject>;
  attachments: Set<string>;
  /** Scripts run through TAT, in order, decoded. */
  commands: { instanceId: string; name: string; script: string }[];
  /** The next `times` calls of `action` fail with this API error. */
  failNext(action: string, code: string, message: string, times?: number): void;
  /** The next TAT command ends with this status and output. */
  failNextCommand(status: string, output: string): void;
  /** Actions that changed something (not Describe/Get/List). */
  writes(): string[];
  close(): Promise<void>;
}

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
const id = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

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

/** Reads the zip the deploy builds (deflate entries, central directory at the end). */
export function unzip(data: Buffer): Record<string, string> {
  const files: Record<string, string> = {};
  const end = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new ApiError('InvalidParameterValue.ZipFile', 'ZipFile is not a zip');
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    const method = data.readUInt16LE(at + 10);
    const size = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const extra = data.readUInt16LE(at + 30);
    const comment = data.readUInt16LE(at + 32);
    const local = data.readUInt32LE(at + 42);
    const name = data.toString('utf8', at + 46, at + 46 + nameLength);
    const localName = data.readUInt16LE(local + 26);
    const localExtra = data.readUInt16LE(local + 28);
    const start = local + 30 + localName + localExtra;
    const raw = data.subarray(start, start + size);
    files[name] = (method === 8 ? inflateRawSync(raw) : raw).toString('utf8');
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

export async function startFakeCloud(keys: { secretId: string; secretKey: string }): Promise<FakeCloud> {
  const requests: ApiRequest[] = [];
  const rejected: string[] = [];
  const functions = new Map<string, FakeFunction>();
  const instances: FakeInstance[] = [];
  const vpcs: JsonObject[] = [];
  const subnets: JsonObject[] = [];
  const securityGroups: (JsonObject & { policies: JsonObject })[] = [];
  const roles = new Map<string, JsonObject>();
  const policies = new Map<number, JsonObject>();
  const attachments = new Set<string>();
  const commands: FakeCloud['commands'] = [];
  const invocations = new Map<string, { task: JsonObject; polls: number }>();
  const failures = new Map<string, { code: string; message: string; times: number }>();
  let commandFailure: { status: string; output: string } | undefined;
  let nextPolicyId = 100;
  // The preset policy SCF's service role uses (Type 2: preset; https://www.tencentcloud.com/document/product/583/31444).
  policies.set(1, {
    PolicyId: 1,
    PolicyName: 'QcloudAccessForScfRole',
    PolicyDocument: '{}',
    Description: 'preset',
    Type: 2,
  });
  let nextPublicIp = 10;
  const APPID = '1250000000';

  function verify(req: http.IncomingMessage, body: string): ApiRequest {
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
    const model = MODELS.actions[action];
    if (!model) throw new ApiError('InvalidAction', `unknown action ${action}`);
    if (version !== VERSIONS[model.service]) {
      throw new ApiError(
        'InvalidParameter',
        `${action} needs version ${VERSIONS[model.service]}, got ${version}`,
      );
    }
    if (!region) throw new ApiError('MissingParameter', 'X-TC-Region is missing');
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > 300) {
      throw new ApiError(
        'AuthFailure.SignatureExpire',
        'X-TC-Timestamp is missing or off by more than 5 minutes',
      );
    }
    const auth =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})$/.exec(
        header('authorization'),
      );
    if (!auth) throw new ApiError('AuthFailure.InvalidAuthorization', 'Authorization is not TC3-HMAC-SHA256');
    const [, secretId, date, service, signedHeaders, signature] = auth as unknown as string[];
    if (secretId !== keys.secretId)
      throw new ApiError('AuthFailure.SecretIdNotFound', `unknown SecretId ${secretId}`);
    if (date !== new Date(timestamp * 1000).toISOString().slice(0, 10)) {
      throw new ApiError('AuthFailure.SignatureFailure', 'credential date mismatch');
    }
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
    // The model's request fields, nested structures included: unknown, missing or mistyped ones are refused.
    const problems = fieldProblems(model.service, model.request, params, action);
    if (problems.length > 0) {
      const code = problems[0]!.includes('not a field')
        ? 'UnknownParameter'
        : problems[0]!.endsWith('is required')
          ? 'MissingParameter'
          : 'InvalidParameter';
      throw new ApiError(code, problems.join('; '));
    }
    return { action, service: model.service, region, params };
  }

  const fnOf = (params: JsonObject): FakeFunction => {
    const fn = functions.get(str(params, 'FunctionName'));
    if (!fn || (str(params, 'Namespace') || 'default') !== fn.Namespace) {
      throw new ApiError('ResourceNotFound.Function', `function ${str(params, 'FunctionName')} not found`);
    }
    return fn;
  };
  const vars = (value: Json | undefined) =>
    isObject(value) && Array.isArray(value.Variables)
      ? value.Variables.filter(isObject).map((v) => ({ Key: str(v, 'Key'), Value: str(v, 'Value') }))
      : undefined;
  const tags = (value: Json | undefined) =>
    Array.isArray(value)
      ? value.filter(isObject).map((t) => ({ Key: str(t, 'Key'), Value: str(t, 'Value') }))
      : [];
  const zipOf = (value: string) => {
    const files = unzip(Buffer.from(value, 'base64'));
    if (!files['index.js']) throw new ApiError('InvalidParameterValue.ZipFile', 'the zip has no index.js');
    return files;
  };
  const policyByName = (name: string) => [...policies.values()].find((p) => p.PolicyName === name);

  const handlers: Record<string, (params: JsonObject) => JsonObject> = {
    // ----------------------------------------------------------------------------------------------- scf
    GetFunction(params) {
      const fn = fnOf(params);
      let status = fn.Status;
      if (fn.busyFor > 0) {
        fn.busyFor -= 1;
        status = fn.Status === 'Active' ? 'Updating' : fn.Status;
        if (fn.busyFor === 0 && fn.Status === 'Creating') fn.Status = 'Active';
      }
      return {
        FunctionName: fn.FunctionName,
        Namespace: fn.Namespace,
        Status: status,
        Runtime: fn.Runtime,
        Handler: fn.Handler,
        Description: fn.Description,
        MemorySize: fn.MemorySize,
        Timeout: fn.Timeout,
        Role: fn.Role,
        Type: fn.Type,
        Environment: { Variables: fn.Environment.Variables.map((v) => ({ ...v })) },
        VpcConfig: { ...fn.VpcConfig },
        PublicNetConfig: { ...fn.PublicNetConfig },
        Tags: fn.Tags.map((t) => ({ ...t })),
        Triggers: fn.triggers.map((t) => ({ ...t })),
        CodeSize: Object.values(fn.code).reduce((n, c) => n + c.length, 0),
      };
    },
    CreateFunction(params) {
      const name = str(params, 'FunctionName');
      if (functions.has(name)) throw new ApiError('ResourceInUse.Function', `${name} exists`);
      const code = isObject(params.Code) ? params.Code : {};
      const vpc = isObject(params.VpcConfig) ? params.VpcConfig : {};
      if (str(vpc, 'SubnetId') && !subnets.some((s) => s.SubnetId === str(vpc, 'SubnetId'))) {
        throw new ApiError('InvalidParameterValue.VpcConfig', 'no such subnet');
      }
      if (str(params, 'Role') && !roles.has(str(params, 'Role'))) {
        throw new ApiError('InvalidParameterValue.Role', `no role ${str(params, 'Role')}`);
      }
      functions.set(name, {
        FunctionName: name,
        Namespace: str(params, 'Namespace') || 'default',
        Status: 'Creating',
        Runtime: str(params, 'Runtime') || 'Python2.7',
        Handler: str(params, 'Handler'),
        Description: str(params, 'Description'),
        MemorySize: Number(params.MemorySize ?? 128),
        Timeout: Number(params.Timeout ?? 3),
        Role: str(params, 'Role'),
        Type: str(params, 'Type') || 'Event',
        Environment: { Variables: vars(params.Environment) ?? [] },
        VpcConfig: { VpcId: str(vpc, 'VpcId'), SubnetId: str(vpc, 'SubnetId') },
        PublicNetConfig: {
          PublicNetStatus: isObject(params.PublicNetConfig)
            ? str(params.PublicNetConfig, 'PublicNetStatus')
            : 'ENABLE',
        },
        Tags: tags(params.Tags),
        code: zipOf(str(code, 'ZipFile')),
        triggers: [],
        busyFor: 1,
      });
      return {};
    },
    UpdateFunctionCode(params) {
      const fn = fnOf(params);
      if (fn.busyFor > 0) throw new ApiError('FailedOperation.UpdateFunctionCode', 'function is updating');
      fn.code = zipOf(str(params, 'ZipFile'));
      if (str(params, 'Handler')) fn.Handler = str(params, 'Handler');
      fn.busyFor = 1;
      return {};
    },
    UpdateFunctionConfiguration(params) {
      const fn = fnOf(params);
      if (fn.busyFor > 0)
        throw new ApiError('FailedOperation.UpdateFunctionConfiguration', 'function is updating');
      if (params.Runtime !== undefined && params.Runtime !== fn.Runtime) {
        throw new ApiError('InvalidParameterValue.Runtime', 'the runtime cannot be changed');
      }
      // The variable list is replaced as a whole, as SCF does.
      const environment = vars(params.Environment);
      if (environment) fn.Environment.Variables = environment;
      if (typeof params.Description === 'string') fn.Description = params.Description;
      if (typeof params.MemorySize === 'number') fn.MemorySize = params.MemorySize;
      if (typeof params.Timeout === 'number') fn.Timeout = params.Timeout;
      if (typeof params.Role === 'string') fn.Role = params.Role;
      if (isObject(params.VpcConfig)) {
        fn.VpcConfig = { VpcId: str(params.VpcConfig, 'VpcId'), SubnetId: str(params.VpcConfig, 'SubnetId') };
      }
      if (isObject(params.PublicNetConfig)) {
        fn.PublicNetConfig = { PublicNetStatus: str(params.PublicNetConfig, 'PublicNetStatus') };
      }
      fn.busyFor = 1;
      return {};
    },
    DeleteFunction(params) {
      fnOf(params);
      functions.delete(str(params, 'FunctionName'));
      return {};
    },
    ListTriggers(params) {
      const fn = fnOf(params);
      return { TotalCount: fn.triggers.length, Triggers: fn.triggers.map((t) => ({ ...t })) };
    },
    CreateTrigger(params) {
      const fn = fnOf(params);
      const type = str(params, 'Type');
      const name = str(params, 'TriggerName');
      if (fn.triggers.some((t) => t.Type === type && t.TriggerName === name)) {
        throw new ApiError('ResourceInUse.Trigger', `${type} trigger ${name} exists`);
      }
      let desc = str(params, 'TriggerDesc');
      if (type === 'http') {
        if (fn.triggers.some((t) => t.Type === 'http'))
          throw new ApiError('ResourceInUse.Trigger', 'one URL only');
        const parsed = JSON.parse(desc) as JsonObject;
        const net = isObject(parsed.NetConfig) ? parsed.NetConfig : {};
        const urlId = randomBytes(6).toString('hex');
        // The answer shape the deploy reads (NetConfig.IntranetUrl / ExtranetUrl): unconfirmed, see docs/deploy.md.
        desc = JSON.stringify({
          ...parsed,
          NetConfig: {
            ...net,
            ...(net.EnableIntranet
              ? { IntranetUrl: `https://${APPID}-${urlId}.in.ap-guangzhou.tencentscf.com` }
              : {}),
            ...(net.EnableExtranet
              ? { ExtranetUrl: `https://${APPID}-${urlId}.ap-guangzhou.tencentscf.com` }
              : {}),
          },
        });
      } else if (type === 'timer') {
        if (desc.trim().split(/\s+/).length !== 7)
          throw new ApiError('InvalidParameterValue.TriggerDesc', 'cron has 7 fields');
      } else {
        throw new ApiError('InvalidParameterValue.Type', `the fake knows http and timer, got ${type}`);
      }
      fn.triggers.push({
        TriggerName: name,
        Type: type,
        TriggerDesc: desc,
        Enable: str(params, 'Enable') === 'CLOSE' ? 0 : 1,
        Qualifier: str(params, 'Qualifier') || '$LATEST',
        AvailableStatus: 'Available',
      });
      return {};
    },
    DeleteTrigger(params) {
      const fn = fnOf(params);
      const before = fn.triggers.length;
      fn.triggers = fn.triggers.filter(
        (t) => !(t.Type === str(params, 'Type') && t.TriggerName === str(params, 'TriggerName')),
      );
      if (fn.triggers.length === before) throw new ApiError('ResourceNotFound.Trigger', 'no such trigger');
      return {};
    },
    // ----------------------------------------------------------------------------------------------- cam
    GetRole(params) {
      const role = roles.get(str(params, 'RoleName'));
      if (!role)
        throw new ApiError('ResourceNotFound.RoleNotExist', `role ${str(params, 'RoleName')} does not exist`);
      return { RoleInfo: { ...role } };
    },
    CreateRole(params) {
      const name = str(params, 'RoleName');
      if (roles.has(name)) throw new ApiError('InvalidParameter.RoleNameInUse', `${name} exists`);
      const trust = JSON.parse(str(params, 'PolicyDocument')) as JsonObject;
      if (!JSON.stringify(trust).includes('scf.qcloud.com')) {
        throw new ApiError('InvalidParameter.PolicyDocumentError', 'SCF is not trusted');
      }
      const roleId = String(4611686018427000000 + roles.size);
      roles.set(name, {
        RoleId: roleId,
        RoleName: name,
        PolicyDocument: str(params, 'PolicyDocument'),
        Description: str(params, 'Description'),
      });
      return { RoleId: roleId };
    },
    DeleteRole(params) {
      if (!roles.delete(str(params, 'RoleName')))
        throw new ApiError('ResourceNotFound.RoleNotExist', 'no role');
      return {};
    },
    ListPolicies(params) {
      const keyword = str(params, 'Keyword');
      // Scope Local: custom policies only (Type 1); presets are Type 2.
      const local = str(params, 'Scope') === 'Local';
      const list = [...policies.values()]
        .filter((p) => String(p.PolicyName).includes(keyword))
        .filter((p) => !local || p.Type !== 2);
      return {
        TotalNum: list.length,
        List: list.map((p) => ({
          PolicyId: p.PolicyId!,
          PolicyName: p.PolicyName!,
          Description: p.Description!,
          Type: p.Type ?? 1,
        })),
      };
    },
    CreatePolicy(params) {
      const name = str(params, 'PolicyName');
      if (policyByName(name)) throw new ApiError('FailedOperation.PolicyNameInUse', `${name} exists`);
      JSON.parse(str(params, 'PolicyDocument'));
      const policyId = nextPolicyId++;
      policies.set(policyId, {
        PolicyId: policyId,
        PolicyName: name,
        PolicyDocument: str(params, 'PolicyDocument'),
        Description: str(params, 'Description'),
      });
      return { PolicyId: policyId };
    },
    GetPolicy(params) {
      const policy = policies.get(Number(params.PolicyId));
      if (!policy) throw new ApiError('ResourceNotFound.PolicyIdNotExist', 'no policy');
      return {
        PolicyName: policy.PolicyName!,
        PolicyDocument: policy.PolicyDocument!,
        Description: policy.Description!,
        Type: 1,
      };
    },
    UpdatePolicy(params) {
      const policy = policies.get(Number(params.PolicyId));
      if (!policy) throw new ApiError('ResourceNotFound.PolicyIdNotExist', 'no policy');
      policy.PolicyDocument = str(params, 'PolicyDocument');
      return {};
    },
    DeletePolicy(params) {
      const ids = Array.isArray(params.PolicyId) ? params.PolicyId.map(Number) : [];
      for (const policyId of ids) {
        if ([...attachments].some((a) => a.endsWith(`/${policyId}`))) {
          throw new ApiError('FailedOperation.PolicyInUse', 'detach the policy first');
        }
        policies.delete(policyId);
      }
      return {};
    },
    ListAttachedRolePolicies(params) {
      const name = str(params, 'RoleName');
      const list = [...attachments]
        .filter((a) => a.startsWith(`${name}/`))
        .map((a) => policies.get(Number(a.split('/')[1])))
        .filter(isObject)
        .map((p) => ({ PolicyId: p.PolicyId!, PolicyName: p.PolicyName! }));
      return { TotalNum: list.length, List: list };
    },
    AttachRolePolicy(params) {
      const role = str(params, 'AttachRoleName');
      if (!roles.has(role)) throw new ApiError('ResourceNotFound.RoleNotExist', 'no role');
      const policyId =
        params.PolicyId !== undefined
          ? Number(params.PolicyId)
          : Number(policyByName(str(params, 'PolicyName'))?.PolicyId);
      if (!policies.has(policyId)) throw new ApiError('ResourceNotFound.PolicyIdNotExist', 'no policy');
      attachments.add(`${role}/${policyId}`);
      return {};
    },
    DetachRolePolicy(params) {
      attachments.delete(`${str(params, 'DetachRoleName')}/${Number(params.PolicyId)}`);
      return {};
    },
    // ----------------------------------------------------------------------------------------------- vpc
    DescribeVpcs(params) {
      const ids = Array.isArray(params.VpcIds) ? params.VpcIds.map(String) : undefined;
      const names = filterValues(params, 'vpc-name');
      const set = vpcs.filter(
        (v) =>
          (!ids || ids.includes(str(v, 'VpcId'))) &&
          (!names || names.some((n) => str(v, 'VpcName').includes(n))),
      );
      return { TotalCount: set.length, VpcSet: set.map((v) => ({ ...v })) };
    },
    CreateVpc(params) {
      const vpc = {
        VpcId: id('vpc'),
        VpcName: str(params, 'VpcName'),
        CidrBlock: str(params, 'CidrBlock'),
        IsDefault: false,
        TagSet: tags(params.Tags),
      };
      vpcs.push(vpc);
      return { Vpc: { ...vpc } };
    },
    DeleteVpc(params) {
      const vpcId = str(params, 'VpcId');
      if (subnets.some((s) => s.VpcId === vpcId))
        throw new ApiError('ResourceInUse', 'the VPC still has subnets');
      const i = vpcs.findIndex((v) => v.VpcId === vpcId);
      if (i < 0) throw new ApiError('ResourceNotFound', 'no VPC');
      vpcs.splice(i, 1);
      return {};
    },
    DescribeSubnets(params) {
      const vpcIds = filterValues(params, 'vpc-id');
      const names = filterValues(params, 'subnet-name');
      const set = subnets.filter(
        (s) =>
          (!vpcIds || vpcIds.includes(str(s, 'VpcId'))) &&
          (!names || names.some((n) => str(s, 'SubnetName').includes(n))),
      );
      return { TotalCount: set.length, SubnetSet: set.map((s) => ({ ...s })) };
    },
    CreateSubnet(params) {
      if (!vpcs.some((v) => v.VpcId === str(params, 'VpcId')))
        throw new ApiError('ResourceNotFound', 'no VPC');
      const subnet = {
        SubnetId: id('subnet'),
        VpcId: str(params, 'VpcId'),
        SubnetName: str(params, 'SubnetName'),
        CidrBlock: str(params, 'CidrBlock'),
        Zone: str(params, 'Zone'),
        TagSet: tags(params.Tags),
      };
      subnets.push(subnet);
      return { Subnet: { ...subnet } };
    },
    DeleteSubnet(params) {
      const subnetId = str(params, 'SubnetId');
      if (
        [...functions.values()].some((f) => f.VpcConfig.SubnetId === subnetId) ||
        instances.some((i) => i.VirtualPrivateCloud.SubnetId === subnetId)
      ) {
        throw new ApiError('ResourceInUse', 'the subnet is in use');
      }
      const i = subnets.findIndex((s) => s.SubnetId === subnetId);
      if (i < 0) throw new ApiError('ResourceNotFound', 'no subnet');
      subnets.splice(i, 1);
      return {};
    },
    DescribeSecurityGroups(params) {
      const names = filterValues(params, 'security-group-name');
      const set = securityGroups.filter(
        (g) => !names || names.some((n) => str(g, 'SecurityGroupName').includes(n)),
      );
      return {
        TotalCount: set.length,
        SecurityGroupSet: set.map(({ policies: _p, ...g }) => ({ ...g })),
      };
    },
    CreateSecurityGroup(params) {
      const group = {
        SecurityGroupId: id('sg'),
        SecurityGroupName: str(params, 'GroupName'),
        SecurityGroupDesc: str(params, 'GroupDescription'),
        TagSet: tags(params.Tags),
      };
      // A new group has no rules: it lets nothing in and, here as on Tencent, nothing out.
      securityGroups.push({ ...group, policies: { Ingress: [], Egress: [] } });
      return { SecurityGroup: { ...group } };
    },
    DeleteSecurityGroup(params) {
      const groupId = str(params, 'SecurityGroupId');
      if (instances.some((i) => i.SecurityGroupIds.includes(groupId)))
        throw new ApiError('ResourceInUse', 'in use');
      const i = securityGroups.findIndex((g) => g.SecurityGroupId === groupId);
      if (i < 0) throw new ApiError('ResourceNotFound', 'no group');
      securityGroups.splice(i, 1);
      return {};
    },
    DescribeSecurityGroupPolicies(params) {
      const group = securityGroups.find((g) => g.SecurityGroupId === str(params, 'SecurityGroupId'));
      if (!group) throw new ApiError('ResourceNotFound', 'no group');
      return { SecurityGroupPolicySet: JSON.parse(JSON.stringify(group.policies)) as JsonObject };
    },
    ModifySecurityGroupPolicies(params) {
      const group = securityGroups.find((g) => g.SecurityGroupId === str(params, 'SecurityGroupId'));
      if (!group) throw new ApiError('ResourceNotFound', 'no group');
      const set = isObject(params.SecurityGroupPolicySet) ? params.SecurityGroupPolicySet : {};
      group.policies = {
        Ingress: Array.isArray(set.Ingress) ? set.Ingress : [],
        Egress: Array.isArray(set.Egress) ? set.Egress : [],
      };
      return {};
    },
    // ----------------------------------------------------------------------------------------------- cvm
    DescribeImages() {
      const images = [
        {
          ImageId: 'img-ubuntu2004',
          ImageName: 'Ubuntu Server 20.04 LTS 64bit',
          CreatedTime: '2023-01-01T00:00:00Z',
          Architecture: 'x86_64',
          ImageType: 'PUBLIC_IMAGE',
          Platform: 'Ubuntu',
        },
        {
          ImageId: 'img-ubuntu2204',
          ImageName: 'Ubuntu Server 22.04 LTS 64bit',
          CreatedTime: '2025-06-01T00:00:00Z',
          Architecture: 'x86_64',
          ImageType: 'PUBLIC_IMAGE',
          Platform: 'Ubuntu',
        },
        {
          ImageId: 'img-ubuntu2204arm',
          ImageName: 'Ubuntu Server 22.04 LTS 64bit',
          CreatedTime: '2025-07-01T00:00:00Z',
          Architecture: 'arm',
          ImageType: 'PUBLIC_IMAGE',
          Platform: 'Ubuntu',
        },
      ];
      return { TotalCount: images.length, ImageSet: images };
    },
    DescribeInstances(params) {
      const ids = Array.isArray(params.InstanceIds) ? params.InstanceIds.map(String) : undefined;
      const names = filterValues(params, 'instance-name');
      const tagFilters = (Array.isArray(params.Filters) ? params.Filters.filter(isObject) : []).filter((f) =>
        str(f, 'Name').startsWith('tag:'),
      );
      const set = instances.filter(
        (i) =>
          (!ids || ids.includes(i.InstanceId)) &&
          (!names || names.some((n) => i.InstanceName.includes(n))) &&
          tagFilters.every((f) =>
            i.Tags.some(
              (t) => `tag:${t.Key}` === f.Name && Array.isArray(f.Values) && f.Values.includes(t.Value),
            ),
          ),
      );
      const shown = set.map((i) => {
        let state = i.InstanceState;
        if (i.pendingFor > 0) {
          i.pendingFor -= 1;
          state = 'PENDING';
        }
        return {
          InstanceId: i.InstanceId,
          InstanceName: i.InstanceName,
          InstanceState: state,
          InstanceType: i.InstanceType,
          ImageId: i.ImageId,
          PrivateIpAddresses: [...i.PrivateIpAddresses],
          PublicIpAddresses: state === 'RUNNING' ? [...i.PublicIpAddresses] : [],
          SecurityGroupIds: [...i.SecurityGroupIds],
          Tags: i.Tags.map((t) => ({ ...t })),
          VirtualPrivateCloud: { ...i.VirtualPrivateCloud },
          Placement: { ...i.Placement },
        };
      });
      // A terminated instance disappears after it was shown once as SHUTDOWN.
      for (const i of set.filter((x) => x.InstanceState === 'SHUTDOWN'))
        instances.splice(instances.indexOf(i), 1);
      return { TotalCount: shown.length, InstanceSet: shown };
    },
    RunInstances(params) {
      const vpc = isObject(params.VirtualPrivateCloud) ? params.VirtualPrivateCloud : {};
      const subnet = subnets.find((s) => s.SubnetId === str(vpc, 'SubnetId'));
      if (!subnet) throw new ApiError('InvalidParameterValue.VpcIdNotExist', 'no such subnet');
      const placement = isObject(params.Placement) ? params.Placement : {};
      if (str(placement, 'Zone') !== str(subnet, 'Zone'))
        throw new ApiError('InvalidParameterValue.ZoneNotMatch', 'subnet zone');
      const groups = Array.isArray(params.SecurityGroupIds) ? params.SecurityGroupIds.map(String) : [];
      if (!groups.every((g) => securityGroups.some((s) => s.SecurityGroupId === g)))
        throw new ApiError('InvalidSecurityGroupId.NotFound', 'no group');
      const userData = Buffer.from(str(params, 'UserData'), 'base64');
      if (userData.length > 16 * 1024)
        throw new ApiError('InvalidParameterValue.UserDataSizeExceeded', 'UserData > 16 KB');
      const ips = Array.isArray(vpc.PrivateIpAddresses) ? vpc.PrivateIpAddresses.map(String) : [];
      if (ips.some((ip) => instances.some((i) => i.PrivateIpAddresses.includes(ip))))
        throw new ApiError('InvalidParameterValue.IPAddressApplied', 'IP in use');
      const spec = params.TagSpecification;
      const instanceTags = Array.isArray(spec) ? spec.filter(isObject).flatMap((s) => tags(s.Tags)) : [];
      const instance: FakeInstance = {
        InstanceId: id('ins'),
        InstanceName: str(params, 'InstanceName'),
        InstanceState: 'RUNNING',
        InstanceType: str(params, 'InstanceType'),
        ImageId: str(params, 'ImageId'),
        PrivateIpAddresses: ips.length ? ips : ['10.8.1.99'],
        PublicIpAddresses: [`203.0.113.${nextPublicIp++}`],
        SecurityGroupIds: groups,
        Tags: instanceTags,
        VirtualPrivateCloud: { VpcId: str(vpc, 'VpcId'), SubnetId: str(vpc, 'SubnetId') },
        Placement: { Zone: str(placement, 'Zone') },
        userData: userData.toString('utf8'),
        pendingFor: 1,
      };
      instances.push(instance);
      return { InstanceIdSet: [instance.InstanceId] };
    },
    TerminateInstances(params) {
      for (const instanceId of Array.isArray(params.InstanceIds) ? params.InstanceIds.map(String) : []) {
        const instance = instances.find((i) => i.InstanceId === instanceId);
        if (!instance) throw new ApiError('InvalidInstanceId.NotFound', instanceId);
        instance.InstanceState = 'SHUTDOWN';
        instance.SecurityGroupIds = [];
      }
      return {};
    },
    // ----------------------------------------------------------------------------------------------- tat
    RunCommand(params) {
      const ids = Array.isArray(params.InstanceIds) ? params.InstanceIds.map(String) : [];
      const script = Buffer.from(str(params, 'Content'), 'base64').toString('utf8');
      const invocationId = id('inv');
      for (const instanceId of ids) {
        if (!instances.some((i) => i.InstanceId === instanceId && i.InstanceState === 'RUNNING')) {
          throw new ApiError('InvalidInstanceId.NotFound', instanceId);
        }
        commands.push({ instanceId, name: str(params, 'CommandName'), script });
      }
      const outcome = commandFailure ?? { status: 'SUCCESS', output: 'wschat gateway ready\n' };
      commandFailure = undefined;
      invocations.set(invocationId, {
        polls: 1,
        task: {
          InvocationId: invocationId,
          InvocationTaskId: id('invt'),
          InstanceId: ids[0] ?? '',
          TaskStatus: outcome.status,
          TaskResult: {
            ExitCode: outcome.status === 'SUCCESS' ? 0 : 1,
            Output: Buffer.from(outcome.output).toString('base64'),
          },
        },
      });
      return { CommandId: id('cmd'), InvocationId: invocationId };
    },
    DescribeInvocationTasks(params) {
      const wanted = filterValues(params, 'invocation-id') ?? [];
      const set = wanted
        .map((w) => invocations.get(w))
        .filter((v): v is { task: JsonObject; polls: number } => v !== undefined);
      const tasks = set.map((entry) => {
        if (entry.polls > 0) {
          entry.polls -= 1;
          return { ...entry.task, TaskStatus: 'RUNNING', TaskResult: {} };
        }
        return { ...entry.task };
      });
      return { TotalCount: tasks.length, InvocationTaskSet: tasks };
    },
  };

  for (const action of Object.keys(MODELS.actions)) {
    if (!handlers[action]) throw new Error(`the fake has no handler for ${action}`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const requestId = randomBytes(8).toString('hex');
      const send = (payload: JsonObject) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      try {
        const checked = verify(req, body);
        requests.push(checked);
        const failure = failures.get(checked.action);
        if (failure && failure.times > 0) {
          failure.times -= 1;
          throw new ApiError(failure.code, failure.message);
        }
        const answer = handlers[checked.action]!(checked.params);
        // What the fake answers must fit the response model too: the deploy reads only fields Tencent has.
        const wrong = fieldProblems(
          checked.service,
          MODELS.actions[checked.action]!.response,
          answer,
          checked.action,
        );
        if (wrong.length > 0) throw new Error(`fake bug: ${wrong.join('; ')}`);
        send({ Response: { ...answer, RequestId: requestId } });
      } catch (error) {
        if (!(error instanceof ApiError)) {
          send({
            Response: { Error: { Code: 'InternalError', Message: String(error) }, RequestId: requestId },
          });
          rejected.push(`InternalError: ${String(error)}`);
          return;
        }
        if (
          /^(AuthFailure|UnknownParameter|MissingParameter|InvalidAction|InvalidParameter$)/.test(error.code)
        ) {
          rejected.push(`${error.code}: ${error.message}`);
        }
        send({ Response: { Error: { Code: error.code, Message: error.message }, RequestId: requestId } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rejected,
    functions,
    instances,
    vpcs,
    subnets,
    securityGroups,
    roles,
    policies,
    attachments,
    commands,
    failNext(action, code, message, times = 1) {
      failures.set(action, { code, message, times });
    },
    failNextCommand(status, output) {
      commandFailure = { status, output };
    },
    writes: () => requests.map((r) => r.action).filter((a) => !/^(Describe|Get|List)/.test(a)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
