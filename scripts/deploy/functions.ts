import { readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { sha256, zip, type ArchiveEntry } from './archive';
import {
  call,
  callOrMissing,
  field,
  objects,
  readRecord,
  waitFor,
  writeRecord,
  type DeployContext,
} from './context';
import { DeployError } from './errors';
import { STACK_TAG, isObject, type FunctionSpec, type JsonObject, type Stack } from './stack';

/**
 * Phase 3: the execution role, the network, the five functions (code and configuration) and their triggers, through
 * the SCF, CAM and VPC Cloud APIs. Shapes: tencentcloud-sdk-nodejs src/services/{scf,cam,vpc}/…/*_models.ts.
 */

// ---------------------------------------------------------------------------------------------------------------
// The execution role

/** Who may assume the role: SCF (execution roles: https://www.tencentcloud.com/document/product/583/38176). */
export const SCF_TRUST_POLICY = {
  version: '2.0',
  statement: [{ action: 'name/sts:AssumeRole', effect: 'allow', principal: { service: ['scf.qcloud.com'] } }],
};

/**
 * Every COS action the function code calls (code/cos/object-store.ts), as CAM names them. DeleteObject is here
 * although the code only multi-deletes: COS checks each key of a multi-delete against cos:DeleteObject
 * (the API: cloud.tencent.com/document/product/436/8289), so a policy without
 * it refuses every cleanup.
 * test/deploy/cam-policy.test.ts derives the list from the code and checks this constant and docs/deploy.md.
 */
export const FUNCTION_COS_ACTIONS = [
  'cos:PutObject',
  'cos:GetObject',
  'cos:GetBucket',
  'cos:DeleteObject',
  'cos:DeleteMultipleObjects',
];

/** The functions' policy: exactly those actions, on this bucket only (syntax: cloud.tencent.com/document/product/436/30580). */
export function functionPolicy(stack: Stack): JsonObject {
  return {
    version: '2.0',
    statement: [
      {
        effect: 'allow',
        action: FUNCTION_COS_ACTIONS.map((a) => `name/${a}`),
        resource: [`qcs::cos:${stack.region}:uid/${stack.bucket.appId}:${stack.bucket.name}/*`],
      },
    ],
  };
}

const OURS = 'wschat deploy:';

/** Sorted-keys JSON, so that two documents compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(decodeURIComponent(text));
  } catch {
    try {
      return text === undefined ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  }
}

/**
 * SCF's service (configuration) role, which a fresh account lacks until someone opens the SCF console: SCF uses it
 * to set up functions (https://www.tencentcloud.com/document/product/583/31444: role SCF_QcsRole, carrier
 * scf.qcloud.com, preset policy QcloudAccessForScfRole). Account-wide, so --remove keeps it.
 */
export const SCF_SERVICE_ROLE = 'SCF_QcsRole';
export const SCF_SERVICE_POLICY = 'QcloudAccessForScfRole';

async function ensureServiceRole(ctx: DeployContext): Promise<void> {
  const role = await callOrMissing(ctx, 'cam', 'GetRole', { RoleName: SCF_SERVICE_ROLE });
  if (role && isObject(role.RoleInfo)) {
    ctx.print(`    = service role ${SCF_SERVICE_ROLE} exists`);
    return;
  }
  await call(ctx, 'cam', 'CreateRole', {
    RoleName: SCF_SERVICE_ROLE,
    PolicyDocument: JSON.stringify(SCF_TRUST_POLICY),
    Description: 'SCF default configuration role (created by the wschat deploy on a fresh account)',
  });
  await call(ctx, 'cam', 'AttachRolePolicy', {
    PolicyName: SCF_SERVICE_POLICY,
    AttachRoleName: SCF_SERVICE_ROLE,
  });
  ctx.print(`    + service role ${SCF_SERVICE_ROLE} created with ${SCF_SERVICE_POLICY}`);
}

export async function ensureRole(ctx: DeployContext, stack: Stack): Promise<void> {
  await ensureServiceRole(ctx);
  const { name, policyName } = stack.role;
  const role = await callOrMissing(ctx, 'cam', 'GetRole', { RoleName: name });
  if (role && isObject(role.RoleInfo)) {
    ctx.print(`    = role ${name} exists`);
  } else {
    await call(ctx, 'cam', 'CreateRole', {
      RoleName: name,
      PolicyDocument: JSON.stringify(SCF_TRUST_POLICY),
      Description: `${OURS} execution role of the ${stack.tag} functions`,
    });
    ctx.print(`    + role ${name} created`);
  }

  const document = functionPolicy(stack);
  const listed = await call(ctx, 'cam', 'ListPolicies', {
    Keyword: policyName,
    Scope: 'Local',
    Rp: 200,
    Page: 1,
  });
  const found = objects(listed.List).find((p) => field(p, 'PolicyName') === policyName);
  let policyId: number;
  if (!found) {
    const created = await call(ctx, 'cam', 'CreatePolicy', {
      PolicyName: policyName,
      PolicyDocument: JSON.stringify(document),
      Description: `${OURS} COS access of the ${stack.tag} functions`,
    });
    policyId = Number(created.PolicyId);
    ctx.print(`    + policy ${policyName} created`);
  } else {
    policyId = Number(found.PolicyId);
    const current = await call(ctx, 'cam', 'GetPolicy', { PolicyId: policyId });
    if (canonical(parseJson(field(current, 'PolicyDocument'))) !== canonical(document)) {
      await call(ctx, 'cam', 'UpdatePolicy', {
        PolicyId: policyId,
        PolicyDocument: JSON.stringify(document),
      });
      ctx.print(`    ~ policy ${policyName} updated to the actions the code calls`);
    } else {
      ctx.print(`    = policy ${policyName} up to date`);
    }
  }
  const attached = await call(ctx, 'cam', 'ListAttachedRolePolicies', { RoleName: name, Page: 1, Rp: 200 });
  if (!objects(attached.List).some((p) => Number(p.PolicyId) === policyId)) {
    await call(ctx, 'cam', 'AttachRolePolicy', { PolicyId: policyId, AttachRoleName: name });
    ctx.print(`    + policy ${policyName} attached to ${name}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The network

export interface Network {
  vpcId: string;
  subnetId: string;
  vpcCidr: string;
}

const stackTags = (stack: Stack) => [{ Key: STACK_TAG, Value: stack.tag }];

/** Finds the VPC and subnet (by id when scripts/deploy/tencent-stack.yml pins them, else by name); creates them when `create`. */
export async function ensureNetwork(ctx: DeployContext, stack: Stack, create: boolean): Promise<Network> {
  const n = stack.network;
  if (n.vpcId && n.subnetId) {
    const vpcs = await call(ctx, 'vpc', 'DescribeVpcs', { VpcIds: [n.vpcId] });
    const vpc = objects(vpcs.VpcSet)[0];
    if (!vpc)
      throw new DeployError(
        `VPC ${n.vpcId} was not found in ${stack.region}`,
        'fix network.vpcId',
        ctx.phase,
      );
    return { vpcId: n.vpcId, subnetId: n.subnetId, vpcCidr: field(vpc, 'CidrBlock') ?? n.vpcCidr };
  }
  const vpcs = await call(ctx, 'vpc', 'DescribeVpcs', {
    Filters: [{ Name: 'vpc-name', Values: [n.vpcName] }],
  });
  let vpc = objects(vpcs.VpcSet).find((v) => field(v, 'VpcName') === n.vpcName);
  if (!vpc) {
    if (!create) throw missingNetwork(ctx, `VPC ${n.vpcName}`);
    const created = await call(ctx, 'vpc', 'CreateVpc', {
      VpcName: n.vpcName,
      CidrBlock: n.vpcCidr,
      Tags: stackTags(stack),
    });
    vpc = isObject(created.Vpc) ? created.Vpc : {};
    ctx.print(`    + VPC ${n.vpcName} ${field(vpc, 'VpcId')} (${n.vpcCidr}) created`);
  }
  const vpcId = field(vpc, 'VpcId') ?? '';
  const subnets = await call(ctx, 'vpc', 'DescribeSubnets', {
    Filters: [
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'subnet-name', Values: [n.subnetName] },
    ],
  });
  let subnet = objects(subnets.SubnetSet).find((s) => field(s, 'SubnetName') === n.subnetName);
  if (!subnet) {
    if (!create) throw missingNetwork(ctx, `subnet ${n.subnetName}`);
    const created = await call(ctx, 'vpc', 'CreateSubnet', {
      VpcId: vpcId,
      SubnetName: n.subnetName,
      CidrBlock: n.subnetCidr,
      Zone: n.zone,
      Tags: stackTags(stack),
    });
    subnet = isObject(created.Subnet) ? created.Subnet : {};
    ctx.print(
      `    + subnet ${n.subnetName} ${field(subnet, 'SubnetId')} (${n.subnetCidr}, ${n.zone}) created`,
    );
  }
  if (field(subnet, 'Zone') && field(subnet, 'Zone') !== n.zone) {
    throw new DeployError(
      `subnet ${n.subnetName} is in ${field(subnet, 'Zone')}, not network.zone ${n.zone}`,
      "set ZONE to the subnet's zone (the gateway host must be created in it), then resume",
      ctx.phase,
    );
  }
  return { vpcId, subnetId: field(subnet, 'SubnetId') ?? '', vpcCidr: field(vpc, 'CidrBlock') ?? n.vpcCidr };
}

function missingNetwork(ctx: DeployContext, what: string): DeployError {
  return new DeployError(
    `${what} does not exist yet`,
    'resume with --from-phase 3, which creates it',
    ctx.phase,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The functions

interface Variable {
  Key: string;
  Value: string;
}

export function variablesOf(info: JsonObject): Variable[] {
  return objects(isObject(info.Environment) ? info.Environment.Variables : undefined)
    .map((v) => ({ Key: field(v, 'Key') ?? '', Value: field(v, 'Value') ?? '' }))
    .filter((v) => v.Key !== '');
}

/** Current variables with `changes` applied: changed keys take the new value, other keys keep their order and value. */
export function mergeVariables(current: Variable[], changes: Record<string, string>): Variable[] {
  const merged = current.map((v) => (v.Key in changes ? { Key: v.Key, Value: changes[v.Key]! } : v));
  for (const [Key, Value] of Object.entries(changes)) {
    if (!current.some((v) => v.Key === Key)) merged.push({ Key, Value });
  }
  return merged;
}

const sameVariables = (a: Variable[], b: Variable[]) =>
  canonical(Object.fromEntries(a.map((v) => [v.Key, v.Value]))) ===
  canonical(Object.fromEntries(b.map((v) => [v.Key, v.Value])));

/** The function's code folder as a zip: every file, paths relative to the folder. */
export function functionZip(fn: FunctionSpec): Buffer {
  const entries: ArchiveEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else
        entries.push({
          name: path.relative(fn.codeDir, file).split(path.sep).join('/'),
          data: readFileSync(file),
        });
    }
  };
  walk(fn.codeDir);
  return zip(entries);
}

const BUSY = ['Creating', 'Updating', 'Publishing', 'Deleting'];

/** GetFunction until the function is Active: SCF applies code and configuration asynchronously. */
export async function activeFunction(ctx: DeployContext, fn: FunctionSpec): Promise<JsonObject> {
  return waitFor(
    ctx,
    `function ${fn.functionName} is not Active`,
    async () => {
      const info = await call(ctx, 'scf', 'GetFunction', {
        FunctionName: fn.functionName,
        Namespace: fn.namespace,
      });
      const status = field(info, 'Status');
      if (status === undefined || status === 'Active') return info;
      if (BUSY.includes(status)) return undefined;
      const reasons = objects(info.StatusReasons)
        .map((r) => field(r, 'ErrorMessage'))
        .filter(Boolean)
        .join('; ');
      throw new DeployError(
        `function ${fn.functionName} is in state ${status}${reasons ? `: ${reasons}` : ''}`,
        `see the function in the SCF console; fix the cause, then resume with --from-phase ${ctx.phase}`,
        ctx.phase,
      );
    },
    `wait until the SCF console shows it as normal, then resume with --from-phase ${ctx.phase}`,
  );
}

export async function getFunction(ctx: DeployContext, fn: FunctionSpec): Promise<JsonObject | undefined> {
  return callOrMissing(ctx, 'scf', 'GetFunction', { FunctionName: fn.functionName, Namespace: fn.namespace });
}

/** Creates or updates one function; returns what changed. */
export async function deployFunction(
  ctx: DeployContext,
  stack: Stack,
  fn: FunctionSpec,
  network: Network,
  codeSha: (fn: FunctionSpec) => string | undefined,
  recordCode: (sha: string) => Promise<void>,
): Promise<void> {
  const code = functionZip(fn);
  const sha = sha256(code);
  const config = {
    Description: fn.description,
    MemorySize: fn.memorySize,
    Timeout: fn.timeoutSeconds,
    Role: stack.role.name,
    VpcConfig: { VpcId: network.vpcId, SubnetId: network.subnetId },
    // In a VPC a function reaches the internet (and COS's public endpoint) only with this, and no NAT gateway is
    // needed (https://www.tencentcloud.com/document/product/583/38377).
    PublicNetConfig: { PublicNetStatus: 'ENABLE' },
  };
  const existing = await getFunction(ctx, fn);
  if (!existing) {
    await call(ctx, 'scf', 'CreateFunction', {
      FunctionName: fn.functionName,
      Namespace: fn.namespace,
      Code: { ZipFile: code.toString('base64') },
      Handler: fn.handler,
      Runtime: fn.runtime,
      Type: 'Event',
      ...config,
      Environment: { Variables: Object.entries(fn.variables).map(([Key, Value]) => ({ Key, Value })) },
      Tags: stackTags(stack),
    });
    await activeFunction(ctx, fn);
    await recordCode(sha);
    ctx.print(`    + ${fn.functionName} created (${fn.runtime}, ${code.length} bytes zipped)`);
    return;
  }
  if (field(existing, 'Runtime') !== fn.runtime) {
    throw new DeployError(
      `function ${fn.functionName} runs ${field(existing, 'Runtime')}, scripts/deploy/tencent-stack.yml says ${fn.runtime}, and SCF ` +
        'cannot change a runtime (UpdateFunctionConfiguration: "创建时指定，目前不支持修改")',
      `delete the function (npm run deploy -- --remove, or the SCF console), then resume with --from-phase 3`,
      ctx.phase,
    );
  }
  await activeFunction(ctx, fn);
  const changes: string[] = [];
  if (codeSha(fn) !== sha || field(existing, 'Handler') !== fn.handler) {
    await call(ctx, 'scf', 'UpdateFunctionCode', {
      FunctionName: fn.functionName,
      Namespace: fn.namespace,
      Handler: fn.handler,
      ZipFile: code.toString('base64'),
    });
    await activeFunction(ctx, fn);
    await recordCode(sha);
    changes.push('code');
  }
  // Variables set outside scripts/deploy/tencent-stack.yml (PUSH_URL and GATEWAY_SECRET from phase 5, an operator's own) are kept.
  const current = variablesOf(existing);
  const variables = mergeVariables(current, fn.variables);
  const vpc = isObject(existing.VpcConfig) ? existing.VpcConfig : {};
  const publicNet = isObject(existing.PublicNetConfig) ? existing.PublicNetConfig : {};
  const differs =
    field(existing, 'Description') !== config.Description ||
    Number(existing.MemorySize) !== config.MemorySize ||
    Number(existing.Timeout) !== config.Timeout ||
    field(existing, 'Role') !== config.Role ||
    field(vpc, 'VpcId') !== network.vpcId ||
    field(vpc, 'SubnetId') !== network.subnetId ||
    field(publicNet, 'PublicNetStatus') !== 'ENABLE' ||
    !sameVariables(current, variables);
  if (differs) {
    await call(ctx, 'scf', 'UpdateFunctionConfiguration', {
      FunctionName: fn.functionName,
      Namespace: fn.namespace,
      ...config,
      Environment: { Variables: variables.map((v) => ({ Key: v.Key, Value: v.Value })) },
    });
    await activeFunction(ctx, fn);
    changes.push('configuration');
  }
  ctx.print(
    changes.length === 0
      ? `    = ${fn.functionName} unchanged`
      : `    ~ ${fn.functionName}: ${changes.join(' and ')} updated`,
  );
}

export async function deployFunctions(ctx: DeployContext, stack: Stack, network: Network): Promise<void> {
  const record = await readRecord(ctx, stack);
  for (const fn of stack.functions) {
    await deployFunction(
      ctx,
      stack,
      fn,
      network,
      (f) => record.functions[f.functionName],
      async (sha) => {
        // Written after each function, so that a failure later in the phase keeps what is already done.
        record.functions[fn.functionName] = sha;
        await writeRecord(ctx, stack, record);
      },
    );
    await ensureTriggers(ctx, fn);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Triggers: the function URL (private) and the sweep's timer

/** A private function URL without Tencent auth: the gateway signs each call (contract; 583/100227). */
export const FUNCTION_URL_DESC = {
  AuthType: 'NONE',
  NetConfig: { EnableIntranet: true, EnableExtranet: false },
};
export const FUNCTION_URL_TRIGGER = 'wschat_url';

async function listTriggers(ctx: DeployContext, fn: FunctionSpec): Promise<JsonObject[]> {
  const listed = await call(ctx, 'scf', 'ListTriggers', {
    FunctionName: fn.functionName,
    Namespace: fn.namespace,
    Limit: 100,
  });
  return objects(listed.Triggers);
}

function urlDescMatches(desc: unknown): boolean {
  if (!isObject(desc)) return false;
  const net = isObject(desc.NetConfig) ? desc.NetConfig : {};
  return desc.AuthType === 'NONE' && net.EnableIntranet === true && net.EnableExtranet === false;
}

export async function ensureTriggers(ctx: DeployContext, fn: FunctionSpec): Promise<void> {
  const triggers = await listTriggers(ctx, fn);
  if (fn.url) {
    const http = triggers.find((t) => field(t, 'Type') === 'http');
    if (http && urlDescMatches(parseJson(field(http, 'TriggerDesc')))) {
      ctx.print(`    = ${fn.functionName}: function URL exists`);
    } else {
      // UpdateTrigger does not cover http triggers (cloud.tencent.com/document/product/583/100227): delete, then create.
      if (http) {
        await call(ctx, 'scf', 'DeleteTrigger', {
          FunctionName: fn.functionName,
          Namespace: fn.namespace,
          TriggerName: field(http, 'TriggerName') ?? '',
          Type: 'http',
          Qualifier: field(http, 'Qualifier') ?? '$DEFAULT',
        });
      }
      await call(ctx, 'scf', 'CreateTrigger', {
        FunctionName: fn.functionName,
        Namespace: fn.namespace,
        TriggerName: FUNCTION_URL_TRIGGER,
        Type: 'http',
        TriggerDesc: JSON.stringify(FUNCTION_URL_DESC),
        Qualifier: '$DEFAULT',
      });
      ctx.print(`    + ${fn.functionName}: private function URL created`);
    }
  }
  if (fn.timer) {
    const timer = triggers.find(
      (t) => field(t, 'Type') === 'timer' && field(t, 'TriggerName') === fn.timer!.name,
    );
    const desc = field(timer, 'TriggerDesc') ?? '';
    // ListTriggers may answer the cron as is or wrapped as {"cron":"..."}; either way it contains the expression.
    if (timer && desc.includes(fn.timer.cron) && Number(timer.Enable) === 1) {
      ctx.print(`    = ${fn.functionName}: timer ${fn.timer.name} (${fn.timer.cron}) exists`);
    } else {
      if (timer) {
        await call(ctx, 'scf', 'DeleteTrigger', {
          FunctionName: fn.functionName,
          Namespace: fn.namespace,
          TriggerName: fn.timer.name,
          Type: 'timer',
        });
      }
      await call(ctx, 'scf', 'CreateTrigger', {
        FunctionName: fn.functionName,
        Namespace: fn.namespace,
        TriggerName: fn.timer.name,
        Type: 'timer',
        TriggerDesc: fn.timer.cron,
        Enable: 'OPEN',
      });
      ctx.print(`    + ${fn.functionName}: timer ${fn.timer.name} (${fn.timer.cron}) created`);
    }
  }
}

/**
 * The private URL of each function the gateway invokes, read back from its http trigger's TriggerDesc
 * (NetConfig.IntranetUrl; unconfirmed against a real account, docs/deploy.md "What is not verified"). An operator can
 * override one with the gateway variable's name in the deploy environment (e.g. REGISTER_FUNCTION_URL).
 */
export async function functionUrls(
  ctx: DeployContext,
  stack: Stack,
  names: Record<string, string>,
): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const [key, variable] of Object.entries(names)) {
    const fn = stack.functions.find((f) => f.key === key)!;
    const override = ctx.env[variable]?.trim();
    if (override) {
      urls[variable] = override;
      continue;
    }
    const http = (await listTriggers(ctx, fn)).find((t) => field(t, 'Type') === 'http');
    const desc = parseJson(field(http, 'TriggerDesc'));
    const net = isObject(desc) && isObject(desc.NetConfig) ? desc.NetConfig : {};
    const url = field(net, 'IntranetUrl');
    if (!url || !/^https?:\/\//.test(url)) {
      throw new DeployError(
        `function ${fn.functionName} has no private function URL${http ? ' in its http trigger' : ''}`,
        http
          ? `read the URL in the SCF console (函数 URL) and export ${variable}=<it>, then resume with --from-phase ${ctx.phase}`
          : 'resume with --from-phase 3, which creates it',
        ctx.phase,
      );
    }
    urls[variable] = url;
  }
  return urls;
}
