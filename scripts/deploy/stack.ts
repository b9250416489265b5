import path from 'path';
import { parse, stringify } from 'yaml';
import { DeployError } from './errors';

/**
 * serverless.yml → a resolved, validated stack, and the per-instance files the Serverless CLI deploys.
 *
 * Why one file split into instances: Tencent's CLI (serverless-cloud-framework, and serverless-tencent before it)
 * deploys one component instance per serverless.yml, or every subfolder of the current one with `runAll`
 * (Serverlesstencent/serverless-cloud-framework src/commands/run.js, src/libs/utils/basic.js `runningTemplate`).
 * Splitting here lets the deploy tool choose the order (bucket, functions, gateway: the gateway binds functions by
 * name) and stop on the first failure, instead of relying on `${output:...}` edges resolved by the platform.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Component = 'cos' | 'scf' | 'apigateway';
const COMPONENTS: readonly string[] = ['cos', 'scf', 'apigateway'];

export interface StackInstance {
  /** The key under `instances`; also the instance name the CLI records. */
  name: string;
  component: Component;
  inputs: JsonObject;
}

export interface FunctionSpec {
  instance: string;
  functionName: string;
  namespace: string;
  /** Absolute path of the code folder. */
  src: string;
  /** `file.export`, e.g. index.main_handler. */
  handler: string;
  timeoutSeconds: number;
  variables: Record<string, string>;
}

export interface WebsocketSpec {
  instance: string;
  serviceName: string;
  /** inputs.serviceId, when serverless.yml pins the service. */
  serviceId?: string;
  environment: string;
  protocols: string[];
  path: string;
  serviceTimeoutSeconds: number;
  transport: string;
  register: string;
  cleanup: string;
  /** HTTP endpoints of the same service (method and path), e.g. the publish API. */
  httpEndpoints: { method: string; path: string }[];
}

export interface Stack {
  app: string;
  stage: string;
  region: string;
  org?: string;
  /** In deploy order: buckets, functions, gateways. */
  instances: StackInstance[];
  functions: FunctionSpec[];
  websocket: WebsocketSpec;
  /** Names of the ${secret:NAME} variables that are set, i.e. handed to the CLI through its environment. */
  secretsPassed: string[];
}

export interface LoadOptions {
  /** Repository root: `src` paths are relative to it. */
  root: string;
  /** The deploy environment (for ${env:...} and ${secret:...}). */
  env: Record<string, string | undefined>;
  /** What ${pushUrl} becomes. */
  pushUrl: string;
}

/** What PUSH_URL holds between phase one and phase two of a first deploy; the functions reject it by name. */
export const PUSH_URL_PLACEHOLDER = 'pending:set-by-npm-run-deploy-phase-4';

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
  readonly secretsPassed = new Set<string>();
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly builtins: Record<string, string>,
  ) {}

  string(value: string, where: string): Resolved {
    const secret = /^\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    if (secret) {
      const name = secret[1]!;
      if (envValue(this.env, name) === undefined) return DROP;
      this.secretsPassed.add(name);
      // The real CLI resolves ${env:NAME} from its own environment (serverless-cloud-framework
      // src/libs/utils/basic.js `resolveVariables`), so the value never lands in the generated file.
      return `\${env:${name}}`;
    }
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
            '${secret:NAME}, ${app}, ${stage}, ${region}, ${pushUrl})',
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

/** Parses serverless.yml. `<<` merge keys are on, as in YAML 1.1 and js-yaml (which the CLI itself uses). */
export function parseStackFile(source: string): JsonObject {
  const doc: unknown = parse(source, { merge: true });
  if (!isObject(doc))
    throw new DeployError('serverless.yml is empty or not a mapping', 'restore it from git');
  return doc;
}

export function loadStack(source: string, options: LoadOptions): Stack {
  const doc = parseStackFile(source);
  const top = new Resolver(options.env, {});
  const word = (key: string, fallback?: string): string => {
    const raw = text(doc[key]) ?? fallback;
    if (raw === undefined) throw new DeployError(`serverless.yml has no "${key}"`, `add a top-level ${key}:`);
    const resolved = top.string(raw, key);
    return typeof resolved === 'string' ? resolved : '';
  };
  const app = word('app');
  const stage = word('stage', 'dev');
  const region = word('region', 'ap-guangzhou');
  const org = doc.org === undefined ? undefined : word('org');
  const resolver = new Resolver(options.env, { app, stage, region, pushUrl: options.pushUrl });

  const rawInstances = doc.instances;
  if (!isObject(rawInstances) || Object.keys(rawInstances).length === 0) {
    throw new DeployError(
      'serverless.yml has no instances',
      'add the bucket, functions and gateway under instances:',
    );
  }
  const instances: StackInstance[] = [];
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(rawInstances)) {
    if (!isObject(raw)) {
      problems.push(`instances.${name} is not a mapping`);
      continue;
    }
    const component = text(raw.component);
    if (component === undefined || !COMPONENTS.includes(component)) {
      problems.push(
        `instances.${name}.component must be one of ${COMPONENTS.join(', ')}, got "${component}"`,
      );
      continue;
    }
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) problems.push(`instance name "${name}" must be a plain word`);
    const inputs = resolver.value(isObject(raw.inputs) ? raw.inputs : {}, `instances.${name}.inputs`);
    instances.push({ name, component: component as Component, inputs: isObject(inputs) ? inputs : {} });
  }
  const missing = new Set([...top.missing, ...resolver.missing]);
  if (missing.size > 0) {
    const names = [...missing].sort();
    throw new DeployError(
      `serverless.yml needs ${names.join(', ')} from the environment, and ${names.length > 1 ? 'they are' : 'it is'} not set`,
      `export ${names.map((n) => `${n}=...`).join(' ')} (see the comments in serverless.yml and docs/deploy.md)`,
    );
  }
  problems.push(...top.problems, ...resolver.problems);
  if (problems.length > 0) {
    throw new DeployError(
      `serverless.yml is invalid:\n  - ${problems.join('\n  - ')}`,
      'correct serverless.yml',
    );
  }
  const order: Component[] = ['cos', 'scf', 'apigateway'];
  instances.sort((a, b) => order.indexOf(a.component) - order.indexOf(b.component));

  const functions = instances
    .filter((i) => i.component === 'scf')
    .map((i) => functionSpec(i, options.root, problems));
  const websocket = websocketSpec(instances, problems);
  if (problems.length > 0 || websocket === undefined) {
    throw new DeployError(
      `serverless.yml is invalid:\n  - ${problems.join('\n  - ')}`,
      'correct serverless.yml',
    );
  }
  return {
    app,
    stage,
    region,
    org,
    instances,
    functions,
    websocket,
    secretsPassed: [...resolver.secretsPassed].sort(),
  };
}

function functionSpec(instance: StackInstance, root: string, problems: string[]): FunctionSpec {
  const { inputs, name } = instance;
  const need = (key: string): string => {
    const value = text(inputs[key]);
    if (!value) problems.push(`instances.${name}.inputs.${key} is required`);
    return value ?? '';
  };
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(child(child(inputs, 'environment'), 'variables'))) {
    const str = text(value);
    if (str === undefined) problems.push(`instances.${name}: environment variable ${key} must be a scalar`);
    else variables[key] = str;
  }
  const timeout = inputs.timeout === undefined ? 3 : Number(inputs.timeout);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900) {
    problems.push(`instances.${name}.inputs.timeout must be 1..900 seconds`);
  }
  return {
    instance: name,
    functionName: need('name'),
    namespace: text(inputs.namespace) ?? 'default',
    src: path.resolve(root, need('src')),
    handler: need('handler'),
    timeoutSeconds: timeout,
    variables,
  };
}

function websocketSpec(instances: StackInstance[], problems: string[]): WebsocketSpec | undefined {
  const found: WebsocketSpec[] = [];
  for (const instance of instances.filter((i) => i.component === 'apigateway')) {
    const endpoints = Array.isArray(instance.inputs.endpoints) ? instance.inputs.endpoints : [];
    const httpEndpoints = endpoints
      .filter(isObject)
      .filter((e) => (text(e.protocol) ?? 'HTTP').toUpperCase() !== 'WEBSOCKET')
      .map((e) => ({ method: text(e.method) ?? 'GET', path: text(e.path) ?? '/' }));
    for (const endpoint of endpoints.filter(isObject)) {
      if ((text(endpoint.protocol) ?? '').toUpperCase() !== 'WEBSOCKET') continue;
      const fn = child(endpoint, 'function');
      const protocols = Array.isArray(instance.inputs.protocols)
        ? instance.inputs.protocols.map((p) => String(p).toLowerCase())
        : ['http'];
      found.push({
        instance: instance.name,
        serviceName: text(instance.inputs.serviceName) ?? '',
        serviceId: text(instance.inputs.serviceId),
        environment: text(instance.inputs.environment) ?? 'release',
        protocols,
        path: text(endpoint.path) ?? '/',
        serviceTimeoutSeconds: Number(endpoint.serviceTimeout ?? 15),
        transport: text(fn.transportFunctionName) ?? '',
        register: text(fn.registerFunctionName) ?? '',
        cleanup: text(fn.cleanupFunctionName) ?? '',
        httpEndpoints,
      });
    }
  }
  if (found.length !== 1) {
    problems.push(`expected exactly one endpoint with protocol: WEBSOCKET, found ${found.length}`);
    return undefined;
  }
  const ws = found[0]!;
  if (!ws.serviceName)
    problems.push(`instances.${ws.instance}.inputs.serviceName is required (phase 3 looks it up)`);
  return ws;
}

/** Checks that need the whole stack: the things a deploy would otherwise only reveal at run time. */
export function validateStack(stack: Stack): void {
  const problems: string[] = [];
  const byName = new Map(stack.functions.map((f) => [f.functionName, f]));
  const ws = stack.websocket;
  for (const [role, fn] of [
    ['transport', ws.transport],
    ['register', ws.register],
    ['cleanup', ws.cleanup],
  ] as const) {
    if (!fn) problems.push(`the WEBSOCKET endpoint needs function.${role}FunctionName`);
    else if (!byName.has(fn))
      problems.push(`the WEBSOCKET ${role} function "${fn}" is not an scf instance here`);
  }
  if (new Set([ws.transport, ws.register, ws.cleanup]).size !== 3) {
    problems.push('the WEBSOCKET endpoint must name three different functions');
  }
  if (!Number.isInteger(ws.serviceTimeoutSeconds) || ws.serviceTimeoutSeconds < 1) {
    problems.push('the WEBSOCKET endpoint needs a serviceTimeout in seconds');
  }
  for (const fn of stack.functions) {
    const v = fn.variables;
    for (const name of ['COS_BUCKET', 'COS_REGION', 'PUSH_URL']) {
      if (!v[name]) problems.push(`function ${fn.functionName} has no ${name}`);
    }
    if (v.COS_BUCKET && !/^[a-z0-9][a-z0-9-]*-\d{5,}$/.test(v.COS_BUCKET)) {
      problems.push(
        `COS_BUCKET "${v.COS_BUCKET}" must be the full bucket name, name-APPID (e.g. wschat-1250000000): the cos ` +
          'component adds the APPID suffix when it is missing, and the functions would then look for the wrong bucket',
      );
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
          `(2 × ${heartbeatSeconds(stack)} s, the heartbeat being serviceTimeout / 3), or live clients get pruned`,
      );
    }
    for (const [key, value] of Object.entries(v)) {
      if (isSecretName(key) && value !== `\${env:${key}}`) {
        problems.push(
          `function ${fn.functionName}: ${key} looks like a secret; reference it as \${secret:${key}} so that ` +
            'it comes from the deploy environment and is never written to a file',
        );
      }
    }
  }
  const credential = findCredential(stack.instances.map((i) => i.inputs));
  if (credential)
    problems.push(`serverless.yml contains what looks like a Tencent Cloud key (${credential}…)`);
  if (problems.length > 0) {
    throw new DeployError(
      `serverless.yml is invalid:\n  - ${problems.join('\n  - ')}`,
      'correct serverless.yml',
    );
  }
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

/** Seconds between web client heartbeats: a third of the idle timeout, as in the local stack. */
export function heartbeatSeconds(stack: Stack): number {
  return Math.max(5, Math.floor(stack.websocket.serviceTimeoutSeconds / 3));
}

/**
 * The serverless.yml of one instance, for a folder `instanceDir`: the single-instance format of Serverless
 * Components (component, name, app, stage, inputs), with `src` made relative to that folder as the CLI expects.
 */
export function instanceFile(
  stack: Stack,
  instance: StackInstance,
  instanceDir: string,
  root: string,
): string {
  const inputs: JsonObject = { ...instance.inputs };
  if (typeof inputs.src === 'string') {
    inputs.src = path.relative(instanceDir, path.resolve(root, inputs.src)) || '.';
  }
  const doc: JsonObject = {
    ...(stack.org === undefined ? {} : { org: stack.org }),
    app: stack.app,
    stage: stack.stage,
    component: instance.component,
    name: instance.name,
    inputs,
  };
  return `# Generated by npm run deploy from serverless.yml (instance "${instance.name}"); do not edit.\n${stringify(doc)}`;
}
