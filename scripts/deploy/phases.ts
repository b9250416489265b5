import { spawn } from 'child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import path from 'path';
import { CloudApiError, type CloudApi, type CloudService, type Credentials } from './cloud-api';
import { DeployError, errorMessage } from './errors';
import { parseOutputs, runCli, tail, unsupportedCli } from './serverless-cli';
import { smokeCheck } from './smoke';
import {
  heartbeatSeconds,
  instanceFile,
  isObject,
  isSecretName,
  type FunctionSpec,
  type Json,
  type JsonObject,
  type Stack,
  type StackInstance,
} from './stack';

/**
 * The phases of `npm run deploy`. Each one prints what it does, is safe to run again, and fails with a DeployError
 * that names the phase to resume from. Phase 2 and 4 are the "two phases" of the name: the functions must exist
 * before the gateway can bind them, and the gateway must exist before its push URL can be put into the functions.
 */

export interface DeployOptions {
  dryRun: boolean;
  skipTests: boolean;
  fromPhase: number;
  smoke: boolean;
  smokeUrl?: string;
  smokeTimeoutMs: number;
}

export interface DeployContext {
  root: string;
  /** Where generated instance files, the state file and web/config.json go (DEPLOY_OUT_DIR, default dist/). */
  outDir: string;
  env: NodeJS.ProcessEnv;
  options: DeployOptions;
  /** The Serverless CLI command (SLS_CLI, default scf). */
  cli: string;
  print: (line: string) => void;
  /** Interval and limit for waiting on a function that is still updating. */
  pollIntervalMs: number;
  waitLimitMs: number;
  credentials?: Credentials;
  api?: CloudApi;
}

/** What one run learns and the next run (or a resumed one) reuses: dist/deploy/state.json. */
export interface DeployState {
  app?: string;
  stage?: string;
  region?: string;
  gatewayOutputs?: Record<string, string[]>;
  serviceId?: string;
  subDomain?: string;
  apiId?: string;
  pushUrl?: string;
  pushUrlSource?: string;
  wsUrl?: string;
  publishUrls?: string[];
  authRequired?: boolean;
}

export interface Phase {
  number: number;
  title: string;
  plan(ctx: DeployContext, stack: Stack, state: DeployState): string[];
  run(ctx: DeployContext, stack: Stack, state: DeployState): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// State and paths

export function stateFile(ctx: DeployContext): string {
  return path.join(ctx.outDir, 'deploy', 'state.json');
}

/** The saved state, if it belongs to this app, stage and region; a state of another stage must not leak in. */
export function loadState(
  ctx: DeployContext,
  where: { app: string; stage: string; region: string },
): DeployState {
  const file = stateFile(ctx);
  if (!existsSync(file)) return {};
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as DeployState;
    if (state.app === where.app && state.stage === where.stage && state.region === where.region) return state;
  } catch {
    // A corrupt state file only costs the shortcuts it would give; phase 3 rebuilds it from the cloud.
  }
  return {};
}

export function saveState(ctx: DeployContext, stack: Stack, state: DeployState): void {
  Object.assign(state, { app: stack.app, stage: stack.stage, region: stack.region });
  writeAtomically(stateFile(ctx), `${JSON.stringify(state, null, 2)}\n`);
}

function writeAtomically(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

export function instanceDir(ctx: DeployContext, name: string): string {
  return path.join(ctx.outDir, 'deploy', name);
}

function shown(ctx: DeployContext, file: string): string {
  const relative = path.relative(ctx.root, file);
  return relative.startsWith('..') ? file : relative;
}

/** Writes dist/deploy/<instance>/serverless.yml for every instance; returns them in deploy order. */
export function writeInstanceFiles(
  ctx: DeployContext,
  stack: Stack,
): { instance: StackInstance; dir: string }[] {
  return stack.instances.map((instance) => {
    const dir = instanceDir(ctx, instance.name);
    writeAtomically(path.join(dir, 'serverless.yml'), instanceFile(stack, instance, dir, ctx.root));
    return { instance, dir };
  });
}

/** The environment the CLI runs with: the credentials under the names it reads (TENCENT_SECRET_ID/KEY/TOKEN). */
export function cliEnv(ctx: DeployContext): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ctx.env };
  if (ctx.credentials) {
    env.TENCENT_SECRET_ID = ctx.credentials.secretId;
    env.TENCENT_SECRET_KEY = ctx.credentials.secretKey;
    if (ctx.credentials.token) env.TENCENT_TOKEN = ctx.credentials.token;
  }
  // serverless-tencent (and the `serverless` entry that used to forward to it) picks Tencent by this variable.
  if (!/(^|\/)(scf|serverless-cloud-framework)$/.test(ctx.cli)) env.SERVERLESS_PLATFORM_VENDOR = 'tencent';
  return env;
}

async function call(
  ctx: DeployContext,
  phase: number,
  service: CloudService,
  action: string,
  params: JsonObject,
): Promise<JsonObject> {
  if (!ctx.api)
    throw new DeployError('no Tencent Cloud API client', 'internal error: credentials were not read', phase);
  ctx.print(`    api ${service}.${action} ${JSON.stringify(redact(params))}`);
  try {
    return await ctx.api.call(service, action, params);
  } catch (error) {
    if (error instanceof CloudApiError) throw apiFailure(error, phase);
    throw error;
  }
}

/** For the progress log: the values of secret-looking variables (AUTH_SECRET, PUBLISH_TOKEN, ...) become ***. */
export function redact(value: Json): Json {
  if (Array.isArray(value)) return value.map(redact);
  if (!isObject(value)) return value;
  if (typeof value.Key === 'string' && isSecretName(value.Key) && 'Value' in value) {
    return { ...value, Value: '***' };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
}

function apiFailure(error: CloudApiError, phase: number): DeployError {
  const code = error.code ?? '';
  let fix = `retry with --from-phase ${phase}; if it keeps failing, look the RequestId up in the Tencent Cloud console`;
  if (code.startsWith('AuthFailure')) {
    fix = 'check TENCENT_SECRET_ID / TENCENT_SECRET_KEY (and TENCENT_TOKEN for temporary keys) and the clock';
  } else if (code.startsWith('UnauthorizedOperation') || code.startsWith('OperationDenied')) {
    fix = `give the key's CAM user access to ${error.service} (e.g. the preset QcloudSCFFullAccess / QcloudAPIGWFullAccess policies), then resume with --from-phase ${phase}`;
  } else if (code.startsWith('ResourceNotFound')) {
    fix = 'phase 2 should have created it: check its output, then resume with --from-phase 2';
  } else if (!code) {
    fix = `check the network (and HTTPS_PROXY / http_proxy), then resume with --from-phase ${phase}`;
  }
  return new DeployError(error.message, fix, phase);
}

function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function field(obj: JsonObject | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function result(response: JsonObject): JsonObject {
  return isObject(response.Result) ? response.Result : {};
}

const isHttpUrl = (value: string | undefined): value is string => !!value && /^https?:\/\/\S+$/.test(value);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 1: build and check the bundles

function runCommand(ctx: DeployContext, command: string, args: string[], env: NodeJS.ProcessEnv) {
  return runCli(command, args, { cwd: ctx.root, env, echo: (line) => ctx.print(`      ${line}`) });
}

/** Loads a bundle in a fresh `node` with no configuration at all: loading must not need any (config is lazy). */
const LOAD_CHECK =
  "const m = require(process.argv[1]); const f = m[process.argv[2]]; if (typeof f !== 'function') " +
  "{ console.error('exports no function ' + process.argv[2]); process.exit(3); }";

function bundleOf(fn: FunctionSpec): { file: string; exported: string } {
  const dot = fn.handler.lastIndexOf('.');
  return { file: path.join(fn.src, `${fn.handler.slice(0, dot)}.js`), exported: fn.handler.slice(dot + 1) };
}

const build: Phase = {
  number: 1,
  title: 'build and check the bundles',
  plan(ctx, stack) {
    const lines = ['$ npm run build'];
    if (ctx.options.skipTests) return [...lines, '(--skip-tests: the bundles are not load-checked)'];
    for (const fn of stack.functions) {
      const { file, exported } = bundleOf(fn);
      lines.push(`$ node -e <load ${shown(ctx, file)}, expect export ${exported}>   (empty environment)`);
    }
    return lines;
  },
  async run(ctx, stack) {
    ctx.print('    $ npm run build');
    const built = await runCommand(ctx, 'npm', ['run', 'build'], ctx.env);
    if (built.code !== 0) {
      throw new DeployError(
        `npm run build ${built.spawnError ? `could not start: ${built.spawnError.message}` : `exited with code ${built.code}`}`,
        'fix the build errors printed above, then run npm run deploy again',
        1,
      );
    }
    if (ctx.options.skipTests) {
      ctx.print('    --skip-tests: bundles not load-checked');
      return;
    }
    for (const fn of stack.functions) {
      const { file, exported } = bundleOf(fn);
      if (!existsSync(file)) {
        throw new DeployError(
          `${shown(ctx, file)} is missing after the build (instance ${fn.instance}, handler ${fn.handler})`,
          'make src and handler in serverless.yml match what scripts/build.mjs writes (dist/functions/<name>/index.js)',
          1,
        );
      }
      const checked = await runCommand(ctx, process.execPath, ['-e', LOAD_CHECK, file, exported], {
        PATH: ctx.env.PATH,
      });
      if (checked.code !== 0) {
        throw new DeployError(
          `${shown(ctx, file)} does not load, or does not export ${exported}:\n${tail(checked.output)}`,
          'a bundle must load without configuration (read the environment lazily) and export its handler',
          1,
        );
      }
      ctx.print(`    ok ${shown(ctx, file)} loads and exports ${exported}`);
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 2: deploy the bucket, the functions (no push URL yet) and the gateway

const deploy: Phase = {
  number: 2,
  title: 'deploy the bucket, the functions and the gateway (deploy phase one)',
  plan(ctx, stack) {
    const lines = stack.instances.map(
      (i) => `$ ${ctx.cli} deploy   (in ${shown(ctx, instanceDir(ctx, i.name))}: ${i.component} "${i.name}")`,
    );
    lines.push(`the instance files it would write, with PUSH_URL = ${pushUrlNote(stack)}:`);
    for (const instance of stack.instances) {
      const dir = instanceDir(ctx, instance.name);
      lines.push(`--- ${shown(ctx, path.join(dir, 'serverless.yml'))}`);
      lines.push(...instanceFile(stack, instance, dir, ctx.root).trimEnd().split('\n'));
    }
    return lines;
  },
  async run(ctx, stack, state) {
    const env = cliEnv(ctx);
    for (const { instance, dir } of writeInstanceFiles(ctx, stack)) {
      const { name } = instance;
      ctx.print(`    $ ${ctx.cli} deploy   (in ${shown(ctx, dir)})`);
      const run = await runCli(ctx.cli, ['deploy'], {
        cwd: dir,
        env,
        echo: (line) => ctx.print(`      [${name}] ${line}`),
      });
      if (run.spawnError) {
        throw new DeployError(
          `could not run the Serverless CLI "${ctx.cli}": ${run.spawnError.code === 'ENOENT' ? 'not found on PATH' : run.spawnError.message}`,
          'npm install -g serverless-cloud-framework (its command is scf), or set SLS_CLI to the Tencent-capable CLI you ' +
            'use (docs/deploy.md, "Which CLI")',
          2,
        );
      }
      const unsupported = unsupportedCli(run.output);
      if (unsupported) {
        throw new DeployError(
          `"${ctx.cli}" cannot deploy Tencent Cloud components: ${unsupported}`,
          'npm install -g serverless-cloud-framework and run with SLS_CLI=scf (docs/deploy.md, "Which CLI")',
          2,
        );
      }
      if (run.code !== 0) {
        throw new DeployError(
          `${ctx.cli} deploy failed for instance "${name}" (exit code ${run.code}):\n${tail(run.output)}`,
          `read the CLI's error above (dist/deploy/${name}/serverless.yml is what it deployed); common causes: the ` +
            'COS bucket name is taken by another account, the SCF_ROLE execution role does not exist, the key lacks ' +
            'permissions',
          2,
        );
      }
      if (instance.component === 'apigateway') {
        state.gatewayOutputs = parseOutputs(run.output);
        saveState(ctx, stack, state);
      }
    }
  },
};

function pushUrlNote(stack: Stack): string {
  const value = stack.functions[0]?.variables.PUSH_URL ?? '';
  return isHttpUrl(value) ? `${value} (found by the last run)` : `the placeholder "${value}"`;
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 3: find the push URL and the public URLs

/**
 * The gateway service: by inputs.serviceId when serverless.yml pins one, otherwise by its exact name (the API's
 * ServiceName filter also matches names that merely contain it).
 */
async function findService(
  ctx: DeployContext,
  stack: Stack,
): Promise<{ serviceId: string; subDomain: string }> {
  const ws = stack.websocket;
  const services = objects(
    result(
      await call(ctx, 3, 'apigateway', 'DescribeServicesStatus', {
        Limit: 100,
        Offset: 0,
        Filters: [
          ws.serviceId
            ? { Name: 'ServiceId', Values: [ws.serviceId] }
            : { Name: 'ServiceName', Values: [ws.serviceName] },
        ],
      }),
    ).ServiceSet,
  ).filter((s) =>
    ws.serviceId ? field(s, 'ServiceId') === ws.serviceId : field(s, 'ServiceName') === ws.serviceName,
  );
  if (services.length !== 1) {
    throw new DeployError(
      services.length === 0
        ? `API Gateway service "${ws.serviceId ?? ws.serviceName}" was not found in ${stack.region}`
        : `${services.length} API Gateway services are named "${ws.serviceName}" in ${stack.region}`,
      services.length === 0
        ? 'phase 2 creates it: check its output, then resume with --from-phase 2'
        : 'delete the stray ones in the API Gateway console (or set inputs.serviceId in serverless.yml), then ' +
            'resume with --from-phase 3',
      3,
    );
  }
  return {
    serviceId: field(services[0], 'ServiceId') ?? '',
    subDomain: field(services[0], 'OuterSubDomain') ?? '',
  };
}

/** The WEBSOCKET API of the service, checked (published, bound to our functions), and its push URL. */
async function pushUrlFromApi(
  ctx: DeployContext,
  stack: Stack,
  serviceId: string,
): Promise<{ apiId: string; pushUrl: string }> {
  const ws = stack.websocket;
  const environments = objects(
    result(
      await call(ctx, 3, 'apigateway', 'DescribeServiceEnvironmentList', {
        ServiceId: serviceId,
        Limit: 100,
      }),
    ).EnvironmentList,
  );
  // Status: 1 published, 0 not (apigateway v20180808 Environment).
  if (
    !environments.some((e) => field(e, 'EnvironmentName') === ws.environment && field(e, 'Status') === '1')
  ) {
    throw new DeployError(
      `service ${serviceId} is not published to the "${ws.environment}" environment`,
      'the apigateway component publishes it on deploy: resume with --from-phase 2',
      3,
    );
  }
  const apis = objects(
    result(
      await call(ctx, 3, 'apigateway', 'DescribeApisStatus', {
        ServiceId: serviceId,
        Limit: 100,
        Offset: 0,
        Filters: [{ Name: 'ApiPath', Values: [ws.path] }],
      }),
    ).ApiIdStatusSet,
  ).filter((a) => field(a, 'Path') === ws.path && field(a, 'Protocol')?.toUpperCase() === 'WEBSOCKET');
  const apiId = field(apis[0], 'ApiId');
  if (!apiId) {
    throw new DeployError(
      `service ${serviceId} has no WEBSOCKET API at ${ws.path}`,
      'phase 2 creates it from the endpoints in serverless.yml: resume with --from-phase 2',
      3,
    );
  }
  const api = result(await call(ctx, 3, 'apigateway', 'DescribeApi', { ServiceId: serviceId, ApiId: apiId }));
  const bound = {
    transport: field(api, 'ServiceWebsocketTransportFunctionName'),
    register: field(api, 'ServiceWebsocketRegisterFunctionName'),
    cleanup: field(api, 'ServiceWebsocketCleanupFunctionName'),
  };
  for (const role of ['transport', 'register', 'cleanup'] as const) {
    if (bound[role] !== undefined && bound[role] !== ws[role]) {
      throw new DeployError(
        `API ${apiId} binds ${role} function "${bound[role]}", serverless.yml says "${ws[role]}"`,
        'resume with --from-phase 2 so that the gateway is deployed from serverless.yml again',
        3,
      );
    }
  }
  const internalDomain = field(api, 'InternalDomain');
  if (!isHttpUrl(internalDomain)) {
    throw new DeployError(
      `DescribeApi returned no push URL (InternalDomain) for API ${apiId} of service ${serviceId}`,
      'look at the API in the console (API 详情 → WebSocket 反向推送地址); resume with --from-phase 3',
      3,
    );
  }
  return { apiId, pushUrl: internalDomain };
}

const pushUrl: Phase = {
  number: 3,
  title: 'find the push URL',
  plan(_ctx, stack) {
    const ws = stack.websocket;
    return [
      `from the ${ws.instance} deploy outputs (serviceId, subDomain, internalDomain) when the CLI printed them;`,
      'otherwise (the component toolkit stopped printing internalDomain in v2.22.1):',
      `api apigateway.DescribeServicesStatus {"Filters":[{"Name":"ServiceName","Values":["${ws.serviceName}"]}]}`,
      `api apigateway.DescribeServiceEnvironmentList {"ServiceId":<found>}   (is "${ws.environment}" published?)`,
      `api apigateway.DescribeApisStatus {"ServiceId":<found>,"Filters":[{"Name":"ApiPath","Values":["${ws.path}"]}]}`,
      'api apigateway.DescribeApi {"ServiceId":<found>,"ApiId":<found>}   → InternalDomain = the push URL',
    ];
  },
  async run(ctx, stack, state) {
    const ws = stack.websocket;
    const outputs = state.gatewayOutputs ?? {};
    let serviceId = outputs.serviceId?.[0];
    let subDomain = outputs.subDomain?.[0];
    const fromOutputs = [...new Set((outputs.internalDomain ?? []).filter(isHttpUrl))];
    let push: string;
    if (serviceId && subDomain && fromOutputs.length === 1) {
      push = fromOutputs[0]!;
      state.pushUrlSource = 'deploy outputs';
      ctx.print(`    from the ${ws.instance} deploy outputs: service ${serviceId}, internalDomain ${push}`);
    } else {
      if (!serviceId || !subDomain) ({ serviceId, subDomain } = await findService(ctx, stack));
      const found = await pushUrlFromApi(ctx, stack, serviceId);
      push = found.pushUrl;
      state.apiId = found.apiId;
      state.pushUrlSource = 'apigateway.DescribeApi';
    }
    const scheme = ws.protocols.includes('https') ? 'https' : 'http';
    Object.assign(state, {
      serviceId,
      subDomain,
      pushUrl: push,
      wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://${subDomain}/${ws.environment}${ws.path}`,
      publishUrls: ws.httpEndpoints.map(
        (e) => `${e.method} ${scheme}://${subDomain}/${ws.environment}${e.path}`,
      ),
    });
    saveState(ctx, stack, state);
    ctx.print(`    push URL  ${push}   (from ${state.pushUrlSource})`);
    ctx.print(`    WebSocket ${state.wsUrl}`);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 4: put PUSH_URL into every function's environment

interface Variable {
  Key: string;
  Value: string;
}

function variablesOf(info: JsonObject): Variable[] {
  return objects(isObject(info.Environment) ? info.Environment.Variables : undefined)
    .map((v) => ({ Key: field(v, 'Key') ?? '', Value: field(v, 'Value') ?? '' }))
    .filter((v) => v.Key !== '');
}

const BUSY = ['Creating', 'Updating', 'Publishing', 'Deleting'];

/**
 * GetFunction until the function is Active: SCF applies configuration asynchronously and refuses changes while
 * it is busy (tencent-component-toolkit src/modules/scf/entities/scf.ts `checkStatus` polls the same way).
 */
async function activeFunction(ctx: DeployContext, fn: FunctionSpec): Promise<JsonObject> {
  const deadline = Date.now() + ctx.waitLimitMs;
  for (;;) {
    // A missing function fails here with ResourceNotFound, whose advice (resume with phase 2) is the right one.
    const info = await call(ctx, 4, 'scf', 'GetFunction', {
      FunctionName: fn.functionName,
      Namespace: fn.namespace,
    });
    const status = field(info, 'Status');
    if (status === undefined || status === 'Active') return info;
    if (!BUSY.includes(status)) {
      const reasons = objects(info.StatusReasons)
        .map((r) => field(r, 'ErrorMessage'))
        .filter(Boolean)
        .join('; ');
      throw new DeployError(
        `function ${fn.functionName} is in state ${status}${reasons ? `: ${reasons}` : ''}`,
        'see the function in the SCF console; redeploy it with --from-phase 2',
        4,
      );
    }
    if (Date.now() > deadline) {
      throw new DeployError(
        `function ${fn.functionName} is still ${status} after ${Math.round(ctx.waitLimitMs / 1000)} s`,
        'wait until the SCF console shows it as normal, then resume with --from-phase 4',
        4,
      );
    }
    await sleep(ctx.pollIntervalMs);
  }
}

const functionEnv: Phase = {
  number: 4,
  title: 'set PUSH_URL on every function (deploy phase two)',
  plan(_ctx, stack) {
    return stack.functions.flatMap((fn) => [
      `api scf.GetFunction {"FunctionName":"${fn.functionName}","Namespace":"${fn.namespace}"}   (wait until Active)`,
      `api scf.UpdateFunctionConfiguration {"FunctionName":"${fn.functionName}","Namespace":"${fn.namespace}",` +
        '"Environment":{"Variables":[<its current variables, PUSH_URL = the push URL>]}}   (skipped when already set)',
    ]);
  },
  async run(ctx, stack, state) {
    const push = state.pushUrl;
    if (!isHttpUrl(push)) {
      throw new DeployError('no push URL is known yet', 'resume with --from-phase 3, which finds it', 4);
    }
    for (const fn of stack.functions) {
      const before = variablesOf(await activeFunction(ctx, fn));
      if (fn.functionName === stack.websocket.register) {
        state.authRequired = before.some((v) => v.Key === 'AUTH_SECRET' && v.Value.trim() !== '');
      }
      if (before.find((v) => v.Key === 'PUSH_URL')?.Value === push) {
        ctx.print(`    = ${fn.functionName}: PUSH_URL already set, no update`);
        continue;
      }
      // UpdateFunctionConfiguration replaces the whole variable list (the component toolkit sends the full list on
      // every update, and needs a special empty element to delete them all: tencent-component-toolkit
      // src/modules/scf/entities/scf.ts `updateConfigure`). So send every current variable back, PUSH_URL changed,
      // and nothing but FunctionName, Namespace and Environment, so that no other setting is touched.
      const merged = before.some((v) => v.Key === 'PUSH_URL')
        ? before.map((v) => (v.Key === 'PUSH_URL' ? { Key: v.Key, Value: push } : v))
        : [...before, { Key: 'PUSH_URL', Value: push }];
      await call(ctx, 4, 'scf', 'UpdateFunctionConfiguration', {
        FunctionName: fn.functionName,
        Namespace: fn.namespace,
        Environment: { Variables: merged.map((v) => ({ Key: v.Key, Value: v.Value })) },
      });
      const after = variablesOf(await activeFunction(ctx, fn));
      const lost = before.filter((v) => v.Key !== 'PUSH_URL' && !after.some((a) => a.Key === v.Key));
      const wrong = [
        ...(after.find((v) => v.Key === 'PUSH_URL')?.Value === push ? [] : ['PUSH_URL is not the new value']),
        ...(lost.length > 0 ? [`lost ${lost.map((v) => v.Key).join(', ')}`] : []),
      ];
      if (wrong.length > 0) {
        throw new DeployError(
          `function ${fn.functionName} does not show the update: ${wrong.join('; ')}`,
          'check the function in the SCF console; resume with --from-phase 4',
          4,
        );
      }
      const kept = before.filter((v) => v.Key !== 'PUSH_URL').length;
      ctx.print(`    ok ${fn.functionName}: PUSH_URL set, ${kept} other variables kept`);
    }
    saveState(ctx, stack, state);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 5: the web client's config, and the URLs

export function webConfigFile(ctx: DeployContext): string {
  return path.join(ctx.outDir, 'web', 'config.json');
}

const webConfig: Phase = {
  number: 5,
  title: 'write the web client config and print the URLs',
  plan(ctx, stack) {
    return [
      `write ${shown(ctx, webConfigFile(ctx))}: {"wsUrl": <wss://subDomain/${stack.websocket.environment}${stack.websocket.path}>, ` +
        `"heartbeatSeconds": ${heartbeatSeconds(stack)}, "authRequired": <AUTH_SECRET set>}`,
    ];
  },
  async run(ctx, stack, state) {
    if (!state.wsUrl) {
      throw new DeployError(
        'the WebSocket URL is not known yet',
        'resume with --from-phase 3, which finds it',
        5,
      );
    }
    const authRequired = state.authRequired ?? stack.secretsPassed.includes('AUTH_SECRET');
    const file = webConfigFile(ctx);
    writeAtomically(
      file,
      `${JSON.stringify({ wsUrl: state.wsUrl, heartbeatSeconds: heartbeatSeconds(stack), authRequired }, null, 2)}\n`,
    );
    ctx.print(`    wrote ${shown(ctx, file)}`);
    ctx.print('');
    ctx.print(`    WebSocket    ${state.wsUrl}`);
    for (const url of state.publishUrls ?? []) ctx.print(`    Publish API  ${url}`);
    ctx.print(`    Push URL     ${state.pushUrl ?? '?'}   (used by the functions; not a client URL)`);
    ctx.print(`    Web client   serve ${shown(ctx, path.dirname(file))}/ from any static host`);
    ctx.print(
      `    Access       ${authRequired ? 'signed tokens required (AUTH_SECRET)' : 'open (no AUTH_SECRET)'}`,
    );
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 6: smoke check (only with --smoke)

const smoke: Phase = {
  number: 6,
  title: 'smoke check: two clients, one message',
  plan(ctx) {
    return [
      `connect two WebSocket clients to ${ctx.options.smokeUrl ?? '<the WebSocket URL>'}, send a text frame from ` +
        'one, expect it at the other',
    ];
  },
  async run(ctx, _stack, state) {
    const url = ctx.options.smokeUrl ?? state.wsUrl;
    if (!url)
      throw new DeployError(
        'no WebSocket URL to check',
        'resume with --from-phase 3, or pass --smoke-url',
        6,
      );
    try {
      await smokeCheck({
        wsUrl: url,
        authSecret: ctx.env.AUTH_SECRET?.trim() || undefined,
        timeoutMs: ctx.options.smokeTimeoutMs,
        log: (line) => ctx.print(`    ${line}`),
      });
    } catch (error) {
      throw new DeployError(
        `smoke check against ${url} failed: ${errorMessage(error)}`,
        'read the register and transport logs in the SCF console; a refused handshake with AUTH_SECRET set needs the ' +
          'same AUTH_SECRET here; nothing received usually means PUSH_URL is wrong (--from-phase 3)',
        6,
      );
    }
    ctx.print('    ok smoke check passed');
  },
};

export const PHASES: Phase[] = [build, deploy, pushUrl, functionEnv, webConfig, smoke];

// ---------------------------------------------------------------------------------------------------------------
// Removal (npm run deploy -- --remove)

export async function removeStack(ctx: DeployContext, stack: Stack): Promise<void> {
  if (ctx.options.dryRun) {
    for (const i of [...stack.instances].reverse()) {
      ctx.print(`    $ ${ctx.cli} remove   (in ${shown(ctx, instanceDir(ctx, i.name))})`);
    }
    return;
  }
  for (const { instance, dir } of writeInstanceFiles(ctx, stack).reverse()) {
    ctx.print(`    $ ${ctx.cli} remove   (in ${shown(ctx, dir)})`);
    // stdin stays attached: the CLI asks for confirmation before it deletes an application.
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(ctx.cli, ['remove'], { cwd: dir, env: cliEnv(ctx), stdio: 'inherit' });
      child.on('error', () => resolve(null));
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new DeployError(
        `${ctx.cli} remove failed for instance "${instance.name}" (exit code ${code})`,
        'read the CLI output above, then run npm run deploy -- --remove again (removing twice is harmless)',
      );
    }
  }
}
