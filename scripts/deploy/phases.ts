import { spawn } from 'child_process';
import { existsSync } from 'fs';
import path from 'path';
import {
  call,
  callOrMissing,
  cos,
  field,
  objects,
  shown,
  tagsOf,
  waitFor,
  writeAtomically,
  type DeployContext,
} from './context';
import { DeployError, errorMessage } from './errors';
import {
  activeFunction,
  deployFunctions,
  ensureNetwork,
  ensureRole,
  FUNCTION_URL_DESC,
  functionPolicy,
  functionUrls,
  getFunction,
  mergeVariables,
  SCF_TRUST_POLICY,
  variablesOf,
} from './functions';
import {
  ensureGateway,
  ensureSecurityGroup,
  findInstance,
  findSecurityGroup,
  gatewayKey,
  gatewaySecret,
  gatewayVariables,
  installScript,
  readyScript,
  releaseArchive,
  type GatewayHost,
} from './gateway';
import { smokeCheck } from './smoke';
import {
  GATEWAY_FUNCTION_URL_VARS,
  STACK_TAG,
  heartbeatSeconds,
  webLimits,
  pushUrlOf,
  type FunctionSpec,
  type Stack,
} from './stack';

/**
 * The phases of `npm run deploy`. Each prints what it does, is safe to run again (it looks before it creates, and
 * changes only what differs), and fails with a DeployError that names the phase to resume from. Phases 4 and 5 are
 * the "two phases" of the name: the gateway first, then its push URL and secret into the functions.
 */

export interface Phase {
  number: number;
  title: string;
  /** What a dry run prints: every Cloud API call and host command the phase may make, in order. */
  plan(ctx: DeployContext, stack: Stack): string[];
  run(ctx: DeployContext, stack: Stack): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 1: build and check the bundles

interface Run {
  code: number | null;
  output: string;
  spawnError?: Error;
}

function runCommand(
  ctx: DeployContext,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { cwd: ctx.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) ctx.print(`      ${line}`);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (spawnError) => resolve({ code: null, output, spawnError }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const tail = (text: string) => text.trim().split('\n').slice(-15).join('\n');

/** Loads a bundle in a fresh `node` with no configuration at all: loading must not need any (config is lazy). */
const LOAD_CHECK =
  "const m = require(process.argv[1]); const f = m[process.argv[2]]; if (typeof f !== 'function') " +
  "{ console.error('exports no function ' + process.argv[2]); process.exit(3); }";

function bundleOf(fn: FunctionSpec): { file: string; exported: string } {
  const dot = fn.handler.lastIndexOf('.');
  return {
    file: path.join(fn.codeDir, `${fn.handler.slice(0, dot)}.js`),
    exported: fn.handler.slice(dot + 1),
  };
}

const build: Phase = {
  number: 1,
  title: 'build and check the bundles',
  plan(ctx, stack) {
    const lines = ['$ npm run build'];
    if (!ctx.options.skipTests) {
      for (const fn of stack.functions) {
        const { file, exported } = bundleOf(fn);
        lines.push(`$ node -e <load ${shown(ctx, file)}, expect export ${exported}>   (empty environment)`);
      }
    }
    lines.push(`$ node --check ${shown(ctx, stack.gateway.bundle)}`);
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
    if (!ctx.options.skipTests) {
      for (const fn of stack.functions) {
        const { file, exported } = bundleOf(fn);
        if (!existsSync(file)) {
          throw new DeployError(
            `${shown(ctx, file)} is missing after the build (function ${fn.key}, handler ${fn.handler})`,
            'make functions.<name>.handler in serverless.yml match what scripts/build.mjs writes',
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
    }
    const gateway = stack.gateway.bundle;
    if (!existsSync(gateway)) {
      throw new DeployError(
        `the gateway bundle ${shown(ctx, gateway)} is missing after the build`,
        'scripts/build.mjs must bundle code/gateway to dist/gateway/index.js (or set GATEWAY_BUNDLE), then run again',
        1,
      );
    }
    const syntax = await runCommand(ctx, process.execPath, ['--check', gateway], { PATH: ctx.env.PATH });
    if (syntax.code !== 0) {
      throw new DeployError(
        `${shown(ctx, gateway)} is not valid JavaScript:\n${tail(syntax.output)}`,
        'rebuild it',
        1,
      );
    }
    ctx.print(`    ok ${shown(ctx, gateway)} parses`);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 2: the bucket

const bucket: Phase = {
  number: 2,
  title: 'the COS bucket',
  plan(_ctx, stack) {
    return [
      `cos headBucket ${stack.bucket.name}`,
      `cos putBucket ${stack.bucket.name} (ACL private)   (only if missing; never emptied)`,
    ];
  },
  async run(ctx, stack) {
    const name = stack.bucket.name;
    ctx.print(`    cos headBucket ${name}`);
    const state = await cos(ctx, (b) => b.headBucket());
    if (state === 'mine') {
      ctx.print(`    = bucket ${name} exists`);
    } else if (state === 'foreign') {
      throw new DeployError(
        `bucket ${name} exists but this key may not use it (403)`,
        'a COS bucket name is global: if another account owns it, pick another name (COS_BUCKET); otherwise give ' +
          'the deploy key the COS actions of docs/deploy.md ("Permissions"), then resume with --from-phase 2',
        2,
      );
    } else {
      ctx.print(`    cos putBucket ${name} (private)`);
      await cos(ctx, (b) => b.putBucket());
      ctx.print(`    + bucket ${name} created`);
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 3: role, network, functions, triggers

const functions: Phase = {
  number: 3,
  title: 'the execution role, the network and the five functions',
  plan(ctx, stack) {
    const lines = [
      `api cam.GetRole {"RoleName":"${stack.role.name}"}`,
      `api cam.CreateRole {"RoleName":"${stack.role.name}","PolicyDocument":${JSON.stringify(JSON.stringify(SCF_TRUST_POLICY))}}   (if missing)`,
      `api cam.ListPolicies {"Keyword":"${stack.role.policyName}","Scope":"Local"}`,
      `api cam.CreatePolicy {"PolicyName":"${stack.role.policyName}","PolicyDocument":${JSON.stringify(JSON.stringify(functionPolicy(stack)))}}   (if missing; else GetPolicy, and UpdatePolicy if it differs)`,
      `api cam.ListAttachedRolePolicies {"RoleName":"${stack.role.name}"}`,
      'api cam.AttachRolePolicy   (if not attached)',
    ];
    if (stack.network.vpcId) {
      lines.push(`api vpc.DescribeVpcs {"VpcIds":["${stack.network.vpcId}"]}`);
    } else {
      lines.push(
        `api vpc.DescribeVpcs {"Filters":[{"Name":"vpc-name","Values":["${stack.network.vpcName}"]}]}`,
        `api vpc.CreateVpc {"VpcName":"${stack.network.vpcName}","CidrBlock":"${stack.network.vpcCidr}"}   (if missing)`,
        `api vpc.DescribeSubnets {"Filters":[vpc-id, {"Name":"subnet-name","Values":["${stack.network.subnetName}"]}]}`,
        `api vpc.CreateSubnet {"SubnetName":"${stack.network.subnetName}","CidrBlock":"${stack.network.subnetCidr}","Zone":"${stack.network.zone}"}   (if missing)`,
      );
    }
    for (const fn of stack.functions) {
      lines.push(
        `api scf.GetFunction {"FunctionName":"${fn.functionName}","Namespace":"${fn.namespace}"}`,
        `api scf.CreateFunction {"FunctionName":"${fn.functionName}","Runtime":"${fn.runtime}","Handler":"${fn.handler}",` +
          `"MemorySize":${fn.memorySize},"Timeout":${fn.timeoutSeconds},"Role":"${stack.role.name}","VpcConfig":{...},` +
          `"PublicNetConfig":{"PublicNetStatus":"ENABLE"},"Code":{"ZipFile":<${shown(ctx, fn.codeDir)} zipped>},` +
          `"Environment":{"Variables":[${Object.keys(fn.variables).join(', ')}]}}   (if missing; else UpdateFunctionCode ` +
          'when the code changed, UpdateFunctionConfiguration when a setting differs, other variables kept)',
        `api scf.ListTriggers {"FunctionName":"${fn.functionName}"}`,
      );
      if (fn.url) {
        lines.push(
          `api scf.CreateTrigger {"FunctionName":"${fn.functionName}","Type":"http","TriggerDesc":${JSON.stringify(JSON.stringify(FUNCTION_URL_DESC))}}   (if missing)`,
        );
      }
      if (fn.timer) {
        lines.push(
          `api scf.CreateTrigger {"FunctionName":"${fn.functionName}","Type":"timer","TriggerName":"${fn.timer.name}","TriggerDesc":"${fn.timer.cron}"}   (if missing)`,
        );
      }
    }
    return lines;
  },
  async run(ctx, stack) {
    await ensureRole(ctx, stack);
    const network = await ensureNetwork(ctx, stack, true);
    ctx.print(`    network ${network.vpcId} / ${network.subnetId} (${network.vpcCidr})`);
    await deployFunctions(ctx, stack, network);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 4: the gateway host (deploy phase one)

async function gatewayInputs(ctx: DeployContext, stack: Stack, mayCreateSecret: boolean) {
  if (!existsSync(stack.gateway.bundle)) {
    throw new DeployError(
      `the gateway bundle ${shown(ctx, stack.gateway.bundle)} is missing`,
      'run npm run deploy from phase 1, which builds it',
      ctx.phase,
    );
  }
  const urls = await functionUrls(ctx, stack, GATEWAY_FUNCTION_URL_VARS);
  const secret = await gatewaySecret(ctx, stack, mayCreateSecret);
  const authRequired = Boolean(stack.functions.find((f) => f.key === 'register')?.variables.AUTH_SECRET);
  return { urls, secret, release: releaseArchive(ctx.root, stack, authRequired) };
}

function printHost(ctx: DeployContext, stack: Stack, host: GatewayHost): void {
  ctx.print(
    `    gateway ${host.instanceId}: public ${host.publicIp || '(none yet)'}, private ${host.privateIp}`,
  );
  ctx.print(`    push URL ${pushUrlOf(stack)}`);
}

const gateway: Phase = {
  number: 4,
  title: 'the gateway host (deploy phase one)',
  plan(ctx, stack) {
    const g = stack.gateway;
    return [
      ...Object.values(GATEWAY_FUNCTION_URL_VARS).map(
        (v) => `api scf.ListTriggers   (read ${v} from the http trigger)`,
      ),
      'api vpc.DescribeVpcs, vpc.DescribeSubnets   (the network of phase 3)',
      `api vpc.DescribeSecurityGroups {"Filters":[{"Name":"security-group-name","Values":["${g.securityGroupName}"]}]}`,
      `api vpc.CreateSecurityGroup {"GroupName":"${g.securityGroupName}"}   (if missing)`,
      'api vpc.DescribeSecurityGroupPolicies',
      `api vpc.ModifySecurityGroupPolicies {Ingress: TCP ${g.publicPort} from 0.0.0.0/0, TCP ${g.pushPort} from the VPC CIDR; Egress: ALL}   (if they differ)`,
      `cos putObject ${stack.bucket.deployPrefix}gateway/release.tgz   (${shown(ctx, g.bundle)} + dist/web, if changed)`,
      `cos putObject ${stack.bucket.deployPrefix}gateway/gateway.env   (the gateway's environment, if changed)`,
      `api cvm.DescribeInstances {"Filters":[{"Name":"tag:${STACK_TAG}","Values":["${stack.tag}"]},{"Name":"instance-name","Values":["${g.name}"]}]}`,
      `api cvm.DescribeImages {"Filters":[{"Name":"image-type","Values":["PUBLIC_IMAGE"]},{"Name":"platform","Values":["${g.imageName.split(' ')[0] ?? ''}"]}]}   (if no instance and no imageId; picks the newest x86_64 "${g.imageName}")`,
      `api cvm.RunInstances {"InstanceChargeType":"POSTPAID_BY_HOUR","InstanceType":"${g.instanceType}","Placement":{"Zone":"${stack.network.zone}"},` +
        `"VirtualPrivateCloud":{...,"PrivateIpAddresses":["${g.privateIp}"]},"InternetAccessible":{"InternetChargeType":"TRAFFIC_POSTPAID_BY_HOUR",` +
        `"InternetMaxBandwidthOut":${g.bandwidthMbps},"PublicIpAssigned":true},"UserData":<install script>}   (if no instance)`,
      'api cvm.DescribeInstances {"InstanceIds":[...]}   (until RUNNING)',
      'api tat.RunCommand <wait for first boot, curl /readyz>   (new instance)  or  <install script: fetch release and env, restart>   (release or env changed)',
      'api tat.DescribeInvocationTasks   (until the command ends)',
      'host script (UserData on a new instance; TAT RunCommand when the release or environment changed):',
      ...installScript(stack, {
        release: `<pre-signed URL of ${gatewayKey(stack, 'release.tgz')}>`,
        env: `<pre-signed URL of ${gatewayKey(stack, 'gateway.env')}>`,
      })
        .trimEnd()
        .split('\n')
        .map((line) => `host| ${line}`),
      'host script after a first boot (TAT RunCommand):',
      ...readyScript(stack)
        .trimEnd()
        .split('\n')
        .map((line) => `host| ${line}`),
    ];
  },
  async run(ctx, stack) {
    const { urls, secret, release } = await gatewayInputs(ctx, stack, true);
    const network = await ensureNetwork(ctx, stack, false);
    const groupId = await ensureSecurityGroup(ctx, stack, network);
    const host = await ensureGateway(
      ctx,
      stack,
      network,
      groupId,
      release,
      gatewayVariables(stack, secret, urls),
    );
    printHost(ctx, stack, host);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 5: push URL and secret into the functions; function URLs into the gateway (deploy phase two)

const wire: Phase = {
  number: 5,
  title: 'push URL and secret into the functions, function URLs into the gateway (deploy phase two)',
  plan(_ctx, stack) {
    return [
      ...stack.functions.flatMap((fn) => [
        `api scf.GetFunction {"FunctionName":"${fn.functionName}"}   (wait until Active)`,
        `api scf.UpdateFunctionConfiguration {"FunctionName":"${fn.functionName}","Environment":{"Variables":[<its current ` +
          `variables, PUSH_URL = ${pushUrlOf(stack)}, GATEWAY_SECRET = ***>]}}   (skipped when already set)`,
      ]),
      'then the gateway check of phase 4: re-run the install script through TAT only if its environment changed',
    ];
  },
  async run(ctx, stack) {
    const { urls, secret, release } = await gatewayInputs(ctx, stack, false);
    const push = pushUrlOf(stack);
    for (const fn of stack.functions) {
      const before = variablesOf(await activeFunction(ctx, fn));
      const changes = { PUSH_URL: push, GATEWAY_SECRET: secret };
      const has = (key: string, value: string) => before.some((v) => v.Key === key && v.Value === value);
      if (has('PUSH_URL', push) && has('GATEWAY_SECRET', secret)) {
        ctx.print(`    = ${fn.functionName}: PUSH_URL and GATEWAY_SECRET already set`);
        continue;
      }
      // UpdateFunctionConfiguration replaces the whole variable list, so every current variable is sent back, and
      // nothing but the environment, so that no other setting is touched.
      const merged = mergeVariables(before, changes);
      await call(ctx, 'scf', 'UpdateFunctionConfiguration', {
        FunctionName: fn.functionName,
        Namespace: fn.namespace,
        Environment: { Variables: merged.map((v) => ({ Key: v.Key, Value: v.Value })) },
      });
      const after = variablesOf(await activeFunction(ctx, fn));
      const lost = before.filter((v) => !(v.Key in changes) && !after.some((a) => a.Key === v.Key));
      if (!after.some((v) => v.Key === 'PUSH_URL' && v.Value === push) || lost.length > 0) {
        throw new DeployError(
          `function ${fn.functionName} does not show the update${lost.length ? `: lost ${lost.map((v) => v.Key).join(', ')}` : ''}`,
          'check the function in the SCF console; resume with --from-phase 5',
          5,
        );
      }
      ctx.print(
        `    ok ${fn.functionName}: PUSH_URL and GATEWAY_SECRET set, ${before.length - before.filter((v) => v.Key in changes).length} other variables kept`,
      );
    }
    const network = await ensureNetwork(ctx, stack, false);
    const group = await findSecurityGroup(ctx, stack);
    if (!group) {
      throw new DeployError('the gateway security group is missing', 'resume with --from-phase 4', 5);
    }
    const host = await ensureGateway(
      ctx,
      stack,
      network,
      field(group, 'SecurityGroupId') ?? '',
      release,
      gatewayVariables(stack, secret, urls),
    );
    ctx.print(`    ok gateway ${host.instanceId} invokes ${Object.keys(urls).length} function URLs`);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 6: the web client's config, and the URLs

export function webConfigFile(ctx: DeployContext): string {
  return path.join(ctx.outDir, 'web', 'config.json');
}

async function publicAddress(ctx: DeployContext, stack: Stack): Promise<string> {
  const instance = await findInstance(ctx, stack);
  const ip =
    instance && Array.isArray(instance.PublicIpAddresses) ? String(instance.PublicIpAddresses[0] ?? '') : '';
  if (!ip) {
    throw new DeployError(
      'the gateway has no public IP (or no instance)',
      'resume with --from-phase 4',
      ctx.phase,
    );
  }
  return `${ip}:${stack.gateway.publicPort}`;
}

const webConfig: Phase = {
  number: 6,
  title: 'write the web client config and print the URLs',
  plan(ctx, stack) {
    return [
      "api cvm.DescribeInstances   (the gateway's public IP)",
      `write ${shown(ctx, webConfigFile(ctx))}: {"wsUrl":"ws://<public IP>:${stack.gateway.publicPort}/ws",` +
        `"heartbeatSeconds":${heartbeatSeconds(stack)},"authRequired":<AUTH_SECRET set>,"limits":{…}}`,
    ];
  },
  async run(ctx, stack) {
    const address = await publicAddress(ctx, stack);
    const authRequired = Boolean(stack.functions.find((f) => f.key === 'register')?.variables.AUTH_SECRET);
    const wsUrl = `ws://${address}/ws`;
    const file = webConfigFile(ctx);
    writeAtomically(
      file,
      `${JSON.stringify({ wsUrl, heartbeatSeconds: heartbeatSeconds(stack), authRequired, limits: webLimits(stack) }, null, 2)}\n`,
    );
    ctx.print(`    wrote ${shown(ctx, file)}`);
    ctx.print('');
    ctx.print(`    Web page     http://${address}/   (served by the gateway)`);
    ctx.print(`    WebSocket    ${wsUrl}`);
    ctx.print(`    Publish API  POST http://${address}/publish   (Authorization: Bearer $PUBLISH_TOKEN)`);
    ctx.print(`    Token API    POST http://${address}/token`);
    ctx.print(`    Health       http://${address}/healthz, /readyz`);
    ctx.print(`    Push URL     ${pushUrlOf(stack)}   (private: functions only)`);
    ctx.print(
      `    Access       ${authRequired ? 'signed tokens required (AUTH_SECRET)' : 'open (no AUTH_SECRET)'}`,
    );
    ctx.print(
      '    Browsers on an https:// page need wss://: put a domain and a certificate in front (docs/deploy.md, "TLS").',
    );
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Phase 7: smoke check (only with --smoke)

const smoke: Phase = {
  number: 7,
  title: 'smoke check: two clients, one message, through the deployed gateway',
  plan(ctx) {
    return [
      `connect two WebSocket clients to ${ctx.options.smokeUrl ?? '<ws://public IP:port/ws>'}, send a text frame from ` +
        'one, expect it at the other',
    ];
  },
  async run(ctx, stack) {
    const url = ctx.options.smokeUrl ?? `ws://${await publicAddress(ctx, stack)}/ws`;
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
        "on the host: journalctl -u wschat-gateway (TAT or the console's login); in the SCF console: the register " +
          'and transport logs. A refused handshake with AUTH_SECRET set needs the same AUTH_SECRET here; nothing ' +
          'received usually means the functions cannot reach the push URL (security group, --from-phase 5)',
        7,
      );
    }
    ctx.print('    ok smoke check passed');
  },
};

export const PHASES: Phase[] = [build, bucket, functions, gateway, wire, webConfig, smoke];

// ---------------------------------------------------------------------------------------------------------------
// Removal (npm run deploy -- --remove [--delete-bucket])

export function removalPlan(stack: Stack, deleteBucket: boolean): { removes: string[]; keeps: string[] } {
  const removes = [
    `CVM instance ${stack.gateway.name} (tag ${STACK_TAG}=${stack.tag}) and its public IP`,
    `security group ${stack.gateway.securityGroupName}`,
    ...stack.functions.map((f) => `function ${f.functionName} with its triggers and function URL`),
    `CAM policy ${stack.role.policyName} and role ${stack.role.name}, if this deploy created them`,
    ...(stack.network.vpcId
      ? []
      : [
          `subnet ${stack.network.subnetName} and VPC ${stack.network.vpcName}, if this deploy created them (tagged)`,
        ]),
    `objects under ${stack.bucket.deployPrefix} in ${stack.bucket.name} (the gateway release, the deploy record)`,
  ];
  const keeps = [
    'CLS log topics SCF created for the functions (delete them in the CLS console)',
    'the SCF service role SCF_QcsRole (account-wide: every function of the account relies on it)',
    ...(stack.network.vpcId
      ? [`the VPC ${stack.network.vpcId} and subnet ${stack.network.subnetId} you named`]
      : []),
  ];
  if (deleteBucket) {
    removes.push(
      `objects under ${stack.bucket.keyPrefix} (chat history and registry), then bucket ${stack.bucket.name}`,
    );
    keeps.push(
      `bucket ${stack.bucket.name} if it still holds objects outside ${stack.bucket.keyPrefix} (the delete fails, and says so)`,
    );
  } else {
    keeps.push(
      `bucket ${stack.bucket.name} and everything under ${stack.bucket.keyPrefix} (chat history, registry): add --delete-bucket to remove them too`,
    );
  }
  return { removes, keeps };
}

export async function removeStack(ctx: DeployContext, stack: Stack): Promise<void> {
  const { removes, keeps } = removalPlan(stack, ctx.options.deleteBucket);
  for (const line of removes) ctx.print(`    remove: ${line}`);
  for (const line of keeps) ctx.print(`    keep:   ${line}`);
  if (ctx.options.dryRun) {
    ctx.print(
      '    api cvm.DescribeInstances, cvm.TerminateInstances; vpc.DescribeSecurityGroups, vpc.DeleteSecurityGroup;',
    );
    ctx.print(
      '    api scf.GetFunction, scf.DeleteFunction (×5); cam.GetRole, cam.ListPolicies, cam.DetachRolePolicy,',
    );
    ctx.print(
      '    api cam.DeletePolicy, cam.DeleteRole; vpc.DescribeVpcs, vpc.DescribeSubnets, vpc.DeleteSubnet, vpc.DeleteVpc;',
    );
    ctx.print(
      `    cos getBucket + deleteMultipleObject under ${stack.bucket.deployPrefix}${ctx.options.deleteBucket ? ` and ${stack.bucket.keyPrefix}, then deleteBucket` : ''}`,
    );
    return;
  }
  ctx.phase = 0;
  const bucketState = await cos(ctx, (b) => b.headBucket());
  const instance = await findInstance(ctx, stack);
  if (instance) {
    const id = field(instance, 'InstanceId') ?? '';
    await call(ctx, 'cvm', 'TerminateInstances', { InstanceIds: [id], ReleaseAddress: true });
    await waitFor(
      ctx,
      `instance ${id} is still terminating`,
      async () => ((await findInstance(ctx, stack)) ? undefined : true),
      'run npm run deploy -- --remove again in a minute (removing twice is harmless)',
    );
    ctx.print(`    - instance ${id} terminated`);
  }
  const group = await findSecurityGroup(ctx, stack);
  if (group && tagsOf(group.TagSet)[STACK_TAG] === stack.tag) {
    await call(ctx, 'vpc', 'DeleteSecurityGroup', { SecurityGroupId: field(group, 'SecurityGroupId') ?? '' });
    ctx.print(`    - security group ${stack.gateway.securityGroupName} deleted`);
  }
  for (const fn of stack.functions) {
    if (await getFunction(ctx, fn)) {
      await call(ctx, 'scf', 'DeleteFunction', { FunctionName: fn.functionName, Namespace: fn.namespace });
      ctx.print(`    - function ${fn.functionName} deleted`);
    }
  }
  await removeRole(ctx, stack);
  if (!stack.network.vpcId) await removeNetwork(ctx, stack);
  if (bucketState !== 'mine') {
    ctx.print(
      `    = bucket ${stack.bucket.name} ${bucketState === 'missing' ? 'does not exist' : 'is not ours'}: nothing to remove there`,
    );
    return;
  }
  const artifacts = await cos(ctx, (b) => b.listKeys(stack.bucket.deployPrefix));
  if (artifacts.length > 0) {
    await cos(ctx, (b) => b.deleteKeys(artifacts));
    ctx.print(`    - ${artifacts.length} objects under ${stack.bucket.deployPrefix} deleted`);
  }
  if (ctx.options.deleteBucket) {
    const data = await cos(ctx, (b) => b.listKeys(stack.bucket.keyPrefix));
    if (data.length > 0) await cos(ctx, (b) => b.deleteKeys(data));
    ctx.print(`    - ${data.length} objects under ${stack.bucket.keyPrefix} deleted`);
    try {
      await cos(ctx, (b) => b.deleteBucket());
      ctx.print(`    - bucket ${stack.bucket.name} deleted`);
    } catch (error) {
      throw new DeployError(
        `bucket ${stack.bucket.name} was not deleted: ${errorMessage(error)}`,
        `it still holds objects outside ${stack.bucket.keyPrefix} (kept on purpose); delete them in the COS console, then run --remove --delete-bucket again`,
      );
    }
  }
}

async function removeRole(ctx: DeployContext, stack: Stack): Promise<void> {
  const role = await callOrMissing(ctx, 'cam', 'GetRole', { RoleName: stack.role.name });
  const listed = await call(ctx, 'cam', 'ListPolicies', {
    Keyword: stack.role.policyName,
    Scope: 'Local',
    Rp: 200,
    Page: 1,
  });
  const policy = objects(listed.List).find((p) => field(p, 'PolicyName') === stack.role.policyName);
  const ours = (description: string | undefined) => (description ?? '').startsWith('wschat deploy:');
  const roleInfo =
    role && typeof role.RoleInfo === 'object' && role.RoleInfo !== null && !Array.isArray(role.RoleInfo)
      ? role.RoleInfo
      : undefined;
  if (policy && ours(field(policy, 'Description'))) {
    const id = Number(policy.PolicyId);
    if (roleInfo)
      await callOrMissing(ctx, 'cam', 'DetachRolePolicy', { PolicyId: id, DetachRoleName: stack.role.name });
    await call(ctx, 'cam', 'DeletePolicy', { PolicyId: [id] });
    ctx.print(`    - policy ${stack.role.policyName} deleted`);
  }
  if (roleInfo && ours(field(roleInfo, 'Description'))) {
    await call(ctx, 'cam', 'DeleteRole', { RoleName: stack.role.name });
    ctx.print(`    - role ${stack.role.name} deleted`);
  } else if (roleInfo) {
    ctx.print(`    keep: role ${stack.role.name} (not created by this deploy)`);
  }
}

async function removeNetwork(ctx: DeployContext, stack: Stack): Promise<void> {
  const vpcs = await call(ctx, 'vpc', 'DescribeVpcs', {
    Filters: [{ Name: 'vpc-name', Values: [stack.network.vpcName] }],
  });
  const vpc = objects(vpcs.VpcSet).find(
    (v) => field(v, 'VpcName') === stack.network.vpcName && tagsOf(v.TagSet)[STACK_TAG] === stack.tag,
  );
  if (!vpc) return;
  const vpcId = field(vpc, 'VpcId') ?? '';
  const subnets = await call(ctx, 'vpc', 'DescribeSubnets', {
    Filters: [{ Name: 'vpc-id', Values: [vpcId] }],
  });
  const fix =
    "SCF releases a function's network interfaces some minutes after the function is deleted: run " +
    'npm run deploy -- --remove again later (removing twice is harmless)';
  try {
    for (const subnet of objects(subnets.SubnetSet).filter(
      (s) => tagsOf(s.TagSet)[STACK_TAG] === stack.tag,
    )) {
      await call(ctx, 'vpc', 'DeleteSubnet', { SubnetId: field(subnet, 'SubnetId') ?? '' });
      ctx.print(`    - subnet ${field(subnet, 'SubnetName')} deleted`);
    }
    await call(ctx, 'vpc', 'DeleteVpc', { VpcId: vpcId });
    ctx.print(`    - VPC ${stack.network.vpcName} deleted`);
  } catch (error) {
    if (error instanceof DeployError) throw new DeployError(error.message, fix, undefined, error.code);
    throw error;
  }
}
