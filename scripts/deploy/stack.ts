import path from 'path';
import { parse } from 'yaml';
import { clientLimits, type ClientLimits } from '../../code/chat/client-limits';
import { loadLimits } from '../../code/config';
import { DeployError } from './errors';

/**
 * scripts/deploy/tencent-stack.yml → a resolved, validated stack. The file is our own format (version 1, documented field by field in
 * docs/deploy.md); this module is its only reader.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The four functions the gateway invokes, and the gateway variable that carries each one's URL (the contract). */
export const GATEWAY_FUNCTION_URL_VARS = {
  register: 'REGISTER_FUNCTION_URL',
  transport: 'TRANSPORT_FUNCTION_URL',
  cleanup: 'CLEANUP_FUNCTION_URL',
  publish: 'PUBLISH_FUNCTION_URL',
} as const;
export type InvokedFunction = keyof typeof GATEWAY_FUNCTION_URL_VARS;

/** Tag key on everything the deploy creates; its value is `<app>-<stage>`. Removal only touches tagged resources. */
export const STACK_TAG = 'wschat-stack';

export interface FunctionSpec {
  /** The key under `functions:` (register, transport, ...). */
  key: string;
  functionName: string;
  namespace: string;
  description: string;
  runtime: string;
  /** `file.export`, e.g. index.main_handler. */
  handler: string;
  memorySize: number;
  timeoutSeconds: number;
  /** Absolute path of the folder zipped as the function's code. */
  codeDir: string;
  variables: Record<string, string>;
  /** A private function URL for the gateway. */
  url: boolean;
  timer?: { name: string; cron: string };
}

export interface GatewaySpec {
  host: 'cvm';
  name: string;
  /** Absolute path of the gateway bundle. */
  bundle: string;
  instanceType: string;
  imageId?: string;
  imageName: string;
  systemDiskGb: number;
  bandwidthMbps: number;
  privateIp: string;
  securityGroupName: string;
  nodeUrl: string;
  nodeSha256?: string;
  publicPort: number;
  pushPort: number;
  variables: Record<string, string>;
}

export interface Stack {
  app: string;
  stage: string;
  region: string;
  /** Value of the STACK_TAG tag: `<app>-<stage>`. */
  tag: string;
  bucket: {
    name: string;
    appId: string;
    keyPrefix: string;
    /** Where this stage's deploy artifacts live: `<deployPrefix><stage>/`. */
    deployPrefix: string;
  };
  network: {
    vpcId?: string;
    subnetId?: string;
    vpcName: string;
    vpcCidr: string;
    subnetName: string;
    subnetCidr: string;
    zone: string;
  };
  role: { name: string; policyName: string };
  functions: FunctionSpec[];
  gateway: GatewaySpec;
}

export interface LoadOptions {
  /** Repository root: paths are relative to it. */
  root: string;
  /** The deploy environment (for ${env:...} and ${secret:...}). */
  env: Record<string, string | undefined>;
}

const DROP = Symbol('drop');
type Resolved = Json | typeof DROP;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Variable names whose values are secrets: never written to a file, never printed. */
export function isSecretName(name: string): boolean {
  return /SECRET|TOKEN|PASSWORD|PRIVATE/i.test(name);
}

function envValue(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

class Resolver {
  readonly missing = new Set<string>();
  readonly problems: string[] = [];
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly builtins: Record<string, string>,
  ) {}

  string(value: string, where: string): Resolved {
    const secret = /^\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    if (secret) return envValue(this.env, secret[1]!) ?? DROP;
    return value.replace(/\$\{([^}]*)\}/g, (token, body: string) => {
      const env = /^env:([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*(.*?)\s*)?$/.exec(body);
      if (env) {
        const found = envValue(this.env, env[1]!);
        if (found !== undefined) return found;
        if (env[2] !== undefined) return env[2].replace(/^(['"])(.*)\1$/, '$2');
        this.missing.add(env[1]!);
        return token;
      }
      if (Object.prototype.hasOwnProperty.call(this.builtins, body)) return this.builtins[body]!;
      if (body.startsWith('secret:')) {
        this.problems.push(`${where}: \${secret:...} must be the whole value, got "${value}"`);
      } else {
        this.problems.push(
          `${where}: unknown variable ${token} (known: \${env:NAME}, \${env:NAME, default}, ` +
            '${secret:NAME}, ${app}, ${stage}, ${region})',
        );
      }
      return token;
    });
  }

  value(value: Json, where: string): Resolved {
    if (typeof value === 'string') return this.string(value, where);
    if (Array.isArray(value)) {
      return value.map((item, i) => this.value(item, `${where}[${i}]`)).filter((v): v is Json => v !== DROP);
    }
    if (isObject(value)) {
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        const resolved = this.value(item, `${where}.${key}`);
        if (resolved !== DROP) out[key] = resolved;
      }
      return out;
    }
    return value;
  }
}

function text(value: Json | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function child(obj: JsonObject, key: string): JsonObject {
  const value = obj[key];
  return isObject(value) ? value : {};
}

export function parseStackFile(source: string): JsonObject {
  const doc: unknown = parse(source, { merge: true });
  if (!isObject(doc))
    throw new DeployError(
      'scripts/deploy/tencent-stack.yml is empty or not a mapping',
      'restore it from git',
    );
  return doc;
}

function invalid(problems: string[]): DeployError {
  return new DeployError(
    `scripts/deploy/tencent-stack.yml is invalid:\n  - ${problems.join('\n  - ')}`,
    'correct scripts/deploy/tencent-stack.yml (docs/deploy.md describes every field)',
  );
}

/** Reads the whole file; throws a DeployError naming every problem at once. */
export function loadStack(source: string, options: LoadOptions): Stack {
  const raw = parseStackFile(source);
  const problems: string[] = [];
  if (raw.version !== 1) problems.push(`version must be 1, got ${JSON.stringify(raw.version ?? null)}`);
  for (const key of ['instances', 'component', 'inputs']) {
    if (key in raw) problems.push(`"${key}" is the old Serverless Components format; see docs/deploy.md`);
  }
  // Secrets must come from the environment: checked on the raw text, before anything is resolved.
  const envBlocks: [string, JsonObject][] = [
    ['functionDefaults.environment', child(child(raw, 'functionDefaults'), 'environment')],
    ['gateway.environment', child(child(raw, 'gateway'), 'environment')],
    ...Object.entries(child(raw, 'functions')).map(([k, f]): [string, JsonObject] => [
      `functions.${k}.environment`,
      isObject(f) ? child(f, 'environment') : {},
    ]),
  ];
  for (const [where, block] of envBlocks) {
    for (const [key, value] of Object.entries(block)) {
      if (isSecretName(key) && value !== `\${secret:${key}}`) {
        problems.push(
          `${where}.${key} looks like a secret; write it as \${secret:${key}} so that it comes from the deploy ` +
            'environment and is never written to a file',
        );
      }
    }
  }
  const credential = findCredential(raw);
  if (credential) problems.push(`the file contains what looks like a Tencent Cloud key (${credential}…)`);

  const top = new Resolver(options.env, {});
  const word = (key: string, fallback: string): string => {
    const resolved = top.string(text(raw[key]) ?? fallback, key);
    return typeof resolved === 'string' ? resolved : '';
  };
  const app = word('app', 'wschat');
  const stage = word('stage', 'dev');
  const region = word('region', 'ap-guangzhou');
  const resolver = new Resolver(options.env, { app, stage, region });
  const resolvedDoc = resolver.value(raw, '');
  const doc = isObject(resolvedDoc) ? resolvedDoc : {};

  const missing = [...new Set([...top.missing, ...resolver.missing])].sort();
  if (missing.length > 0) {
    throw new DeployError(
      `scripts/deploy/tencent-stack.yml needs ${missing.join(', ')} from the environment, and ${missing.length > 1 ? 'they are' : 'it is'} not set`,
      `export ${missing.map((n) => `${n}=...`).join(' ')} (see the comments in scripts/deploy/tencent-stack.yml and docs/deploy.md)`,
    );
  }
  problems.push(...top.problems, ...resolver.problems);

  const str = (obj: JsonObject, key: string, where: string, fallback?: string): string => {
    const value = text(obj[key]) ?? fallback;
    if (value === undefined || value === '') problems.push(`${where}.${key} is required`);
    return value ?? '';
  };
  const optional = (obj: JsonObject, key: string): string | undefined => text(obj[key]) || undefined;
  const int = (obj: JsonObject, key: string, where: string, min: number, max: number, fallback?: number) => {
    const value = obj[key] === undefined ? fallback : Number(obj[key]);
    if (value === undefined || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${where}.${key} must be an integer from ${min} to ${max}`);
      return min;
    }
    return value;
  };
  const vars = (obj: JsonObject, where: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(obj)) {
      const s = text(value);
      if (s === undefined) problems.push(`${where}.${key} must be a scalar`);
      else out[key] = s;
    }
    return out;
  };

  const b = child(doc, 'bucket');
  const bucketName = str(b, 'name', 'bucket');
  const appId = /-(\d{5,})$/.exec(bucketName)?.[1] ?? '';
  if (bucketName && (!appId || !/^[a-z0-9][a-z0-9-]*-\d{5,}$/.test(bucketName))) {
    problems.push(
      `bucket.name "${bucketName}" must be the full bucket name, name-APPID (e.g. wschat-1250000000): the APPID ` +
        'names the account in the CAM policy, and the functions must look for exactly this bucket',
    );
  }
  const prefix = (value: string) => (value === '' || value.endsWith('/') ? value : `${value}/`);
  const keyPrefix = prefix(text(b.keyPrefix) ?? 'wschat/');
  const deployPrefix = `${prefix(text(b.deployPrefix) ?? 'deploy/')}${stage}/`;
  if (keyPrefix !== '' && deployPrefix.startsWith(keyPrefix)) {
    problems.push('bucket.deployPrefix must lie outside bucket.keyPrefix (the sweep lists keyPrefix)');
  }

  const n = child(doc, 'network');
  const network = {
    vpcId: optional(n, 'vpcId'),
    subnetId: optional(n, 'subnetId'),
    vpcName: str(n, 'vpcName', 'network', `${app}-${stage}`),
    vpcCidr: str(n, 'vpcCidr', 'network', '10.8.0.0/16'),
    subnetName: str(n, 'subnetName', 'network', `${app}-${stage}`),
    subnetCidr: str(n, 'subnetCidr', 'network', '10.8.1.0/24'),
    zone: str(n, 'zone', 'network'),
  };
  if (Boolean(network.vpcId) !== Boolean(network.subnetId)) {
    problems.push('network.vpcId and network.subnetId go together: set both or neither');
  }
  if (network.zone && !network.zone.startsWith(`${region}-`)) {
    problems.push(`network.zone "${network.zone}" is not in region ${region} (e.g. ${region}-3)`);
  }

  const r = child(doc, 'role');
  const role = {
    name: str(r, 'name', 'role', 'wschat_scf_role'),
    policyName: str(r, 'policyName', 'role', `${app}-${stage}-cos`),
  };

  const defaults = child(doc, 'functionDefaults');
  const functions: FunctionSpec[] = [];
  for (const [key, value] of Object.entries(child(doc, 'functions'))) {
    const where = `functions.${key}`;
    if (!isObject(value)) {
      problems.push(`${where} is not a mapping`);
      continue;
    }
    const f: JsonObject = { ...defaults, ...value };
    const timer = isObject(value.timer) ? value.timer : undefined;
    functions.push({
      key,
      functionName: str(f, 'name', where),
      namespace: text(f.namespace) ?? 'default',
      description: text(f.description) ?? '',
      runtime: str(f, 'runtime', where),
      handler: str(f, 'handler', where),
      memorySize: int(f, 'memorySize', where, 64, 3072, 128),
      timeoutSeconds: int(f, 'timeout', where, 1, 900, 3),
      codeDir: path.resolve(options.root, text(f.codeDir) ?? `dist/functions/${key}`),
      variables: {
        ...vars(child(defaults, 'environment'), 'functionDefaults.environment'),
        ...vars(child(value, 'environment'), `${where}.environment`),
      },
      url: f.url === true,
      timer: timer
        ? { name: str(timer, 'name', `${where}.timer`), cron: str(timer, 'cron', `${where}.timer`) }
        : undefined,
    });
  }
  for (const key of Object.keys(GATEWAY_FUNCTION_URL_VARS)) {
    const fn = functions.find((f) => f.key === key);
    if (!fn) problems.push(`functions.${key} is missing: the gateway invokes it`);
    else if (!fn.url) problems.push(`functions.${key}.url must be true: the gateway invokes it by its URL`);
  }

  const g = child(doc, 'gateway');
  const host = text(g.host) ?? 'cvm';
  if (host !== 'cvm')
    problems.push(`gateway.host must be cvm (the only host the deploy creates), got "${host}"`);
  const gateway: GatewaySpec = {
    host: 'cvm',
    name: str(g, 'name', 'gateway', `${app}-${stage}-gateway`),
    bundle: path.resolve(options.root, str(g, 'bundle', 'gateway', 'dist/gateway/index.js')),
    instanceType: str(g, 'instanceType', 'gateway'),
    imageId: optional(g, 'imageId'),
    imageName: str(g, 'imageName', 'gateway'),
    systemDiskGb: int(g, 'systemDiskGb', 'gateway', 20, 1024, 20),
    bandwidthMbps: int(g, 'bandwidthMbps', 'gateway', 1, 200, 10),
    privateIp: str(g, 'privateIp', 'gateway'),
    securityGroupName: str(g, 'securityGroupName', 'gateway', `${app}-${stage}-gateway`),
    nodeUrl: str(g, 'nodeUrl', 'gateway'),
    nodeSha256: optional(g, 'nodeSha256'),
    publicPort: int(g, 'publicPort', 'gateway', 1, 65535, 8080),
    pushPort: int(g, 'pushPort', 'gateway', 1, 65535, 8081),
    variables: Object.fromEntries(
      Object.entries(vars(child(g, 'environment'), 'gateway.environment')).filter(([, v]) => v !== ''),
    ),
  };
  if (gateway.privateIp && network.subnetCidr && !inCidr(gateway.privateIp, network.subnetCidr)) {
    problems.push(
      `gateway.privateIp ${gateway.privateIp} is not in network.subnetCidr ${network.subnetCidr}`,
    );
  }
  if (gateway.publicPort === gateway.pushPort) problems.push('gateway.publicPort and pushPort must differ');
  // The gateway's own rule (code/gateway/config.ts): checked here so that a bad value fails before a host boots.
  const nodeId = gateway.variables.GATEWAY_NODE_ID;
  if (nodeId !== undefined && !/^[A-Za-z0-9]{1,16}$/.test(nodeId)) {
    problems.push(`gateway.environment.GATEWAY_NODE_ID must be 1-16 letters or digits, got "${nodeId}"`);
  }

  if (problems.length > 0) throw invalid(problems);
  const stack: Stack = {
    app,
    stage,
    region,
    tag: `${app}-${stage}`,
    bucket: { name: bucketName, appId, keyPrefix, deployPrefix },
    network,
    role,
    functions,
    gateway,
  };
  validateStack(stack);
  return stack;
}

/** a.b.c.d inside a/len. */
export function inCidr(ip: string, cidr: string): boolean {
  const toInt = (s: string) =>
    s
      .split('.')
      .reduce((acc, part) => (acc === -1 || !/^\d{1,3}$/.test(part) ? -1 : acc * 256 + Number(part)), 0);
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = toInt(ip);
  const b = toInt(base ?? '');
  if (a < 0 || b < 0 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Checks that need the whole stack: the things a deploy would otherwise only reveal at run time. */
export function validateStack(stack: Stack): void {
  const problems: string[] = [];
  const idle = Number(stack.gateway.variables.GATEWAY_IDLE_TIMEOUT_SECONDS ?? 600);
  for (const fn of stack.functions) {
    const v = fn.variables;
    for (const name of ['COS_BUCKET', 'COS_REGION']) {
      if (!v[name]) problems.push(`function ${fn.functionName} has no ${name}`);
    }
    if (v.COS_BUCKET && v.COS_BUCKET !== stack.bucket.name) {
      problems.push(
        `function ${fn.functionName}: COS_BUCKET ${v.COS_BUCKET} is not bucket.name ${stack.bucket.name}`,
      );
    }
    if ((v.COS_KEY_PREFIX ?? 'wschat/') !== stack.bucket.keyPrefix) {
      problems.push(`function ${fn.functionName}: COS_KEY_PREFIX must equal bucket.keyPrefix`);
    }
    for (const name of ['PUSH_URL', 'GATEWAY_SECRET']) {
      if (name in v)
        problems.push(`function ${fn.functionName}: ${name} is set by phase 5; remove it from the file`);
    }
    const budgetMs = Number(v.PUSH_BUDGET_MS ?? 20000);
    if (budgetMs >= fn.timeoutSeconds * 1000) {
      problems.push(
        `function ${fn.functionName}: PUSH_BUDGET_MS ${budgetMs} must stay below its timeout (${fn.timeoutSeconds} s)`,
      );
    }
    // One lost heartbeat must not get a live client pruned: the TTL covers two of them.
    const ttl = Number(v.CONNECTION_TTL_SECONDS ?? 900);
    if (ttl < 2 * heartbeatSeconds(stack)) {
      problems.push(
        `function ${fn.functionName}: CONNECTION_TTL_SECONDS ${ttl} must cover two client heartbeats ` +
          `(2 × ${heartbeatSeconds(stack)} s, the heartbeat being GATEWAY_IDLE_TIMEOUT_SECONDS ${idle} / 3), or ` +
          'live clients get pruned',
      );
    }
  }
  if (problems.length > 0) throw invalid(problems);
}

/** A Tencent Cloud SecretId starts with AKID; a literal one anywhere means a key was pasted into the file. */
export function findCredential(value: Json): string | undefined {
  if (typeof value === 'string') return /AKID[A-Za-z0-9]{12,}/.exec(value)?.[0].slice(0, 8);
  if (Array.isArray(value)) return value.map(findCredential).find((v) => v !== undefined);
  if (isObject(value))
    return Object.values(value)
      .map(findCredential)
      .find((v) => v !== undefined);
  return undefined;
}

/** The chat limits for the web page's config.json, as the transport function will enforce them. */
export function webLimits(stack: Stack): ClientLimits {
  return clientLimits(loadLimits(stack.functions.find((f) => f.key === 'transport')?.variables ?? {}));
}

/** Seconds between web client heartbeats: a third of the gateway's idle timeout, as in the local stack. */
export function heartbeatSeconds(stack: Stack): number {
  const idle = Number(stack.gateway.variables.GATEWAY_IDLE_TIMEOUT_SECONDS ?? 600);
  return Math.max(5, Math.floor((Number.isFinite(idle) ? idle : 600) / 3));
}

/** The push URL the functions call: the gateway's push listener on its fixed private IP (the contract). */
export function pushUrlOf(stack: Stack): string {
  return `http://${stack.gateway.privateIp}:${stack.gateway.pushPort}/push`;
}
