import { randomBytes } from 'crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { md5, sha256, tarGz, type ArchiveEntry } from './archive';
import {
  call,
  cos,
  field,
  objects,
  readRecord,
  strings,
  tagsOf,
  waitFor,
  writeRecord,
  type DeployContext,
} from './context';
import { DeployError } from './errors';
import type { Network } from './functions';
import { STACK_TAG, heartbeatSeconds, isObject, webLimits, type JsonObject, type Stack } from './stack';

/**
 * Phase 4 (and the gateway half of phase 5): the gateway on one CVM in the stack's VPC.
 *
 * - A security group: the public port open to the internet, the push port to the VPC only, all egress.
 * - The release (gateway bundle + web page) and the gateway's environment file go to the bucket under
 *   deploy/<stage>/gateway/; the host fetches them through pre-signed URLs, so it needs no key at all.
 * - A new instance gets the install script as UserData (first boot, cloud-init); an existing one gets the same script
 *   through TAT RunCommand when the release or the environment changed. The script installs Node.js, unpacks the
 *   release, writes a systemd unit and restarts it, then waits for /readyz.
 * Shapes: tencentcloud-sdk-nodejs src/services/{cvm,vpc,tat}/…/*_models.ts.
 */

/** Where the host keeps everything. */
export const HOST_DIR = '/opt/wschat';

/** Variables the deploy itself sets on the gateway (the rest come from scripts/deploy/tencent-stack.yml gateway.environment). */
export const DEPLOY_SET_GATEWAY_VARS = [
  'GATEWAY_PORT',
  'GATEWAY_HOST',
  'GATEWAY_PUSH_PORT',
  'GATEWAY_PUSH_HOST',
  'GATEWAY_SECRET',
  'GATEWAY_WEB_DIR',
];

export const gatewayKey = (stack: Stack, name: string) => `${stack.bucket.deployPrefix}gateway/${name}`;

// ---------------------------------------------------------------------------------------------------------------
// The release and the environment

/** The web page as the gateway serves it: dist/web without a deployed config.json, plus one that points at /ws. */
export function releaseArchive(root: string, stack: Stack, authRequired: boolean): Buffer {
  const entries: ArchiveEntry[] = [{ name: 'gateway/index.js', data: readFileSync(stack.gateway.bundle) }];
  const webDir = path.join(root, 'dist', 'web');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const relative = path.relative(webDir, file).split(path.sep).join('/');
      if (statSync(file).isDirectory()) walk(file);
      else if (relative !== 'config.json')
        entries.push({ name: `web/${relative}`, data: readFileSync(file) });
    }
  };
  walk(webDir);
  // Relative: the page and the socket share the gateway's origin, whatever its address or domain.
  const config = {
    wsUrl: '/ws',
    heartbeatSeconds: heartbeatSeconds(stack),
    authRequired,
    limits: webLimits(stack),
  };
  entries.push({ name: 'web/config.json', data: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) });
  return tarGz(entries);
}

export function gatewayVariables(
  stack: Stack,
  secret: string,
  urls: Record<string, string>,
): Record<string, string> {
  const g = stack.gateway;
  return {
    ...g.variables,
    GATEWAY_PORT: String(g.publicPort),
    GATEWAY_HOST: '0.0.0.0',
    GATEWAY_PUSH_PORT: String(g.pushPort),
    // The push listener on the private address only: reachable from the functions in the VPC, not the internet.
    GATEWAY_PUSH_HOST: g.privateIp,
    GATEWAY_SECRET: secret,
    GATEWAY_WEB_DIR: `${HOST_DIR}/release/web`,
    ...urls,
  };
}

/** systemd EnvironmentFile syntax; sorted so that equal environments give equal bytes. */
export function envFile(variables: Record<string, string>): string {
  return (
    Object.keys(variables)
      .sort()
      .map((k) => `${k}="${variables[k]!.replace(/["\\]/g, '\\$&').replace(/\n/g, ' ')}"`)
      .join('\n') + '\n'
  );
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)="((?:[^"\\]|\\.)*)"$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  }
  return out;
}

/**
 * The shared secret: from GATEWAY_SECRET in the deploy environment, else the one the gateway already has (its
 * environment file in the bucket), else a new random one. Stable across re-runs without being stored in any file here.
 */
export async function gatewaySecret(ctx: DeployContext, stack: Stack, mayCreate: boolean): Promise<string> {
  const fromEnv = ctx.env.GATEWAY_SECRET?.trim();
  if (fromEnv && fromEnv.length < 32) {
    throw new DeployError(
      'GATEWAY_SECRET is shorter than 32 characters (the gateway and the functions refuse it)',
      "unset it (the deploy then keeps the gateway's or makes one), or export a longer one, e.g. openssl rand -hex 32",
      ctx.phase,
    );
  }
  if (fromEnv) return fromEnv;
  const existing = await cos(ctx, (b) => b.getObject(gatewayKey(stack, 'gateway.env')));
  const known = existing === undefined ? undefined : parseEnvFile(existing).GATEWAY_SECRET;
  if (known) return known;
  if (!mayCreate) {
    throw new DeployError(
      'the gateway has no GATEWAY_SECRET yet',
      'resume with --from-phase 4, which creates the gateway and its secret',
      ctx.phase,
    );
  }
  return randomBytes(32).toString('hex');
}

/** Uploads an object unless the bucket already holds the same bytes (its ETag is the MD5 of a simple PUT). */
async function upload(
  ctx: DeployContext,
  key: string,
  body: Buffer | string,
  type: string,
): Promise<boolean> {
  const etag = await cos(ctx, (b) => b.headObject(key));
  if (etag === md5(body)) return false;
  await cos(ctx, (b) => b.putObject(key, body, type));
  ctx.print(`    cos putObject ${key} (${Buffer.byteLength(body)} bytes)`);
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The host script

/** How long the pre-signed URLs in a script stay valid: long enough for a slow first boot, short enough to expire. */
const URL_SECONDS = 2 * 3600;

/** Where the script installs; tests point both at a temporary folder. */
export interface HostPaths {
  dir: string;
  unitDir: string;
}

export function installScript(
  stack: Stack,
  urls: { release: string; env: string },
  paths: HostPaths = { dir: HOST_DIR, unitDir: '/etc/systemd/system' },
): string {
  const g = stack.gateway;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const d = paths.dir;
  return `#!/bin/bash
# wschat gateway install/update (written by npm run deploy; idempotent). Logs: journalctl -u wschat-gateway
set -euo pipefail
D=${q(d)}
mkdir -p "$D"
NODE_URL=${q(g.nodeUrl)}
NODE_SHA256=${q(g.nodeSha256 ?? '')}
if [ ! -x "$D/node/bin/node" ] || [ "$(cat "$D/node/.url" 2>/dev/null)" != "$NODE_URL" ]; then
  curl -fsSL --retry 5 "$NODE_URL" -o "$D/node.tar.xz"
  if [ -n "$NODE_SHA256" ]; then echo "$NODE_SHA256  $D/node.tar.xz" | sha256sum -c -; fi
  rm -rf "$D/node.new" && mkdir -p "$D/node.new"
  tar -xJf "$D/node.tar.xz" -C "$D/node.new" --strip-components=1
  echo "$NODE_URL" > "$D/node.new/.url"
  rm -rf "$D/node" "$D/node.tar.xz" && mv "$D/node.new" "$D/node"
fi
curl -fsSL --retry 5 ${q(urls.release)} -o "$D/release.tgz"
rm -rf "$D/release.new" && mkdir -p "$D/release.new"
tar -xzf "$D/release.tgz" -C "$D/release.new"
rm -f "$D/release.tgz"
curl -fsSL --retry 5 ${q(urls.env)} -o "$D/gateway.env.new"
chmod 600 "$D/gateway.env.new"
id wschat >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin wschat
chown wschat "$D/gateway.env.new"
rm -rf "$D/release.old"
if [ -d "$D/release" ]; then mv "$D/release" "$D/release.old"; fi
mv "$D/release.new" "$D/release"
mv "$D/gateway.env.new" "$D/gateway.env"
cat > ${q(`${paths.unitDir}/wschat-gateway.service`)} <<UNIT
[Unit]
Description=wschat WebSocket gateway
After=network-online.target
Wants=network-online.target
[Service]
User=wschat
EnvironmentFile=$D/gateway.env
ExecStart=$D/node/bin/node $D/release/gateway/index.js
Restart=always
RestartSec=2
LimitNOFILE=1048576
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable wschat-gateway >/dev/null
systemctl restart wschat-gateway
for i in $(seq 1 60); do
  if curl -fsS http://127.0.0.1:${g.publicPort}/readyz >/dev/null; then echo "wschat gateway ready"; exit 0; fi
  sleep 1
done
journalctl -u wschat-gateway -n 50 --no-pager || true
echo "wschat gateway did not become ready" >&2
exit 1
`;
}

/** TAT: wait for cloud-init (first boot) to finish, then check the gateway answers /readyz. */
export function readyScript(stack: Stack): string {
  return `#!/bin/bash
cloud-init status --wait >/dev/null 2>&1 || true
for i in $(seq 1 120); do
  if curl -fsS http://127.0.0.1:${stack.gateway.publicPort}/readyz >/dev/null; then echo "wschat gateway ready"; exit 0; fi
  sleep 2
done
journalctl -u wschat-gateway -n 50 --no-pager || tail -n 50 /var/log/cloud-init-output.log || true
exit 1
`;
}

// ---------------------------------------------------------------------------------------------------------------
// The security group

export function securityPolicies(stack: Stack, vpcCidr: string): JsonObject {
  return {
    Ingress: [
      {
        Protocol: 'TCP',
        Port: String(stack.gateway.publicPort),
        CidrBlock: '0.0.0.0/0',
        Action: 'ACCEPT',
        PolicyDescription: 'wschat: WebSocket, page, publish API',
      },
      {
        Protocol: 'TCP',
        Port: String(stack.gateway.pushPort),
        CidrBlock: vpcCidr,
        Action: 'ACCEPT',
        PolicyDescription: 'wschat: push listener, from the functions in the VPC only',
      },
    ],
    Egress: [{ Protocol: 'ALL', Port: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
  };
}

const ruleKey = (rule: JsonObject) =>
  [field(rule, 'Protocol'), field(rule, 'Port'), field(rule, 'CidrBlock'), field(rule, 'Action')].join(' ');

export async function findSecurityGroup(ctx: DeployContext, stack: Stack): Promise<JsonObject | undefined> {
  const listed = await call(ctx, 'vpc', 'DescribeSecurityGroups', {
    Filters: [{ Name: 'security-group-name', Values: [stack.gateway.securityGroupName] }],
  });
  return objects(listed.SecurityGroupSet).find(
    (g) => field(g, 'SecurityGroupName') === stack.gateway.securityGroupName,
  );
}

export async function ensureSecurityGroup(
  ctx: DeployContext,
  stack: Stack,
  network: Network,
): Promise<string> {
  let group = await findSecurityGroup(ctx, stack);
  if (!group) {
    const created = await call(ctx, 'vpc', 'CreateSecurityGroup', {
      GroupName: stack.gateway.securityGroupName,
      GroupDescription: `wschat deploy: gateway of ${stack.tag}`,
      Tags: [{ Key: STACK_TAG, Value: stack.tag }],
    });
    group = isObject(created.SecurityGroup) ? created.SecurityGroup : {};
    ctx.print(
      `    + security group ${stack.gateway.securityGroupName} ${field(group, 'SecurityGroupId')} created`,
    );
  }
  const id = field(group, 'SecurityGroupId') ?? '';
  const desired = securityPolicies(stack, network.vpcCidr);
  const current = await call(ctx, 'vpc', 'DescribeSecurityGroupPolicies', { SecurityGroupId: id });
  const set = isObject(current.SecurityGroupPolicySet) ? current.SecurityGroupPolicySet : {};
  const same = (direction: 'Ingress' | 'Egress') =>
    objects(set[direction]).map(ruleKey).sort().join('|') ===
    objects(desired[direction]).map(ruleKey).sort().join('|');
  if (same('Ingress') && same('Egress')) {
    ctx.print(
      `    = security group rules up to date (public ${stack.gateway.publicPort}, push ${stack.gateway.pushPort} from ${network.vpcCidr})`,
    );
  } else {
    // Replaces every rule of the group: the group is ours alone.
    await call(ctx, 'vpc', 'ModifySecurityGroupPolicies', {
      SecurityGroupId: id,
      SecurityGroupPolicySet: desired,
    });
    ctx.print(
      `    ~ security group rules set: public ${stack.gateway.publicPort}, push ${stack.gateway.pushPort} from ${network.vpcCidr}`,
    );
  }
  return id;
}

// ---------------------------------------------------------------------------------------------------------------
// The instance

const GONE = ['LAUNCH_FAILED', 'SHUTDOWN', 'TERMINATING'];

export async function findInstance(ctx: DeployContext, stack: Stack): Promise<JsonObject | undefined> {
  const listed = await call(ctx, 'cvm', 'DescribeInstances', {
    Filters: [
      { Name: `tag:${STACK_TAG}`, Values: [stack.tag] },
      { Name: 'instance-name', Values: [stack.gateway.name] },
    ],
    Limit: 100,
  });
  const live = objects(listed.InstanceSet).filter(
    (i) =>
      field(i, 'InstanceName') === stack.gateway.name &&
      tagsOf(i.Tags)[STACK_TAG] === stack.tag &&
      !GONE.includes(field(i, 'InstanceState') ?? ''),
  );
  if (live.length > 1) {
    throw new DeployError(
      `${live.length} gateway instances are named ${stack.gateway.name}: ${live.map((i) => field(i, 'InstanceId')).join(', ')}`,
      `terminate the extra ones in the CVM console, then resume with --from-phase ${ctx.phase}`,
      ctx.phase,
    );
  }
  return live[0];
}

async function findImage(ctx: DeployContext, stack: Stack): Promise<string> {
  if (stack.gateway.imageId) return stack.gateway.imageId;
  const listed = await call(ctx, 'cvm', 'DescribeImages', {
    // platform narrows the public images to the distribution named first in imageName (e.g. Ubuntu).
    Filters: [
      { Name: 'image-type', Values: ['PUBLIC_IMAGE'] },
      { Name: 'platform', Values: [stack.gateway.imageName.split(' ')[0] ?? 'Ubuntu'] },
    ],
    Limit: 100,
  });
  const image = objects(listed.ImageSet)
    .filter((i) => (field(i, 'ImageName') ?? '').includes(stack.gateway.imageName))
    .filter((i) => (field(i, 'Architecture') ?? 'x86_64') === 'x86_64')
    .sort((a, b) => (field(b, 'CreatedTime') ?? '').localeCompare(field(a, 'CreatedTime') ?? ''))[0];
  if (!image) {
    throw new DeployError(
      `no public image named like "${stack.gateway.imageName}" in ${stack.region}`,
      'set GATEWAY_IMAGE_ID to an x86_64 Linux image with systemd, curl and tar (e.g. Ubuntu 22.04), then resume',
      ctx.phase,
    );
  }
  return field(image, 'ImageId') ?? '';
}

async function runningInstance(ctx: DeployContext, instanceId: string): Promise<JsonObject> {
  return waitFor(
    ctx,
    `instance ${instanceId} is not RUNNING`,
    async () => {
      const listed = await call(ctx, 'cvm', 'DescribeInstances', { InstanceIds: [instanceId] });
      const instance = objects(listed.InstanceSet)[0];
      const state = field(instance, 'InstanceState');
      if (state === 'RUNNING') return instance;
      if (state === 'LAUNCH_FAILED' || (instance && GONE.includes(state ?? ''))) {
        throw new DeployError(
          `instance ${instanceId} is ${state}`,
          'check the CVM console (quota, zone stock, image), then resume with --from-phase 4',
          ctx.phase,
        );
      }
      return undefined;
    },
    `check the instance in the CVM console, then resume with --from-phase ${ctx.phase}`,
  );
}

/** Runs a shell script on the instance through TAT and waits for its result. */
export async function runOnHost(
  ctx: DeployContext,
  instanceId: string,
  name: string,
  script: string,
): Promise<void> {
  ctx.print(`    host ${instanceId}: ${name}`);
  const started = await call(ctx, 'tat', 'RunCommand', {
    Content: Buffer.from(script).toString('base64'),
    InstanceIds: [instanceId],
    CommandType: 'SHELL',
    CommandName: name,
    Timeout: 600,
    Username: 'root',
  });
  const invocationId = field(started, 'InvocationId') ?? '';
  const task = await waitFor(
    ctx,
    `command ${name} on ${instanceId} has not finished`,
    async () => {
      const listed = await call(ctx, 'tat', 'DescribeInvocationTasks', {
        Filters: [{ Name: 'invocation-id', Values: [invocationId] }],
        HideOutput: false,
      });
      const found = objects(listed.InvocationTaskSet)[0];
      const status = field(found, 'TaskStatus') ?? 'PENDING';
      return ['PENDING', 'DELIVERING', 'DELIVER_DELAYED', 'RUNNING', 'CANCELLING'].includes(status)
        ? undefined
        : found;
    },
    `see the command in the TAT console (invocation ${invocationId}), then resume with --from-phase ${ctx.phase}`,
  );
  const status = field(task, 'TaskStatus');
  if (status !== 'SUCCESS') {
    const result = isObject(task.TaskResult) ? task.TaskResult : {};
    const output = Buffer.from(field(result, 'Output') ?? '', 'base64')
      .toString('utf8')
      .trim()
      .split('\n')
      .slice(-15);
    throw new DeployError(
      `${name} on ${instanceId} ended ${status}${field(task, 'ErrorInfo') ? ` (${field(task, 'ErrorInfo')})` : ''}` +
        (output.length > 0 && output[0] ? `:\n      ${output.join('\n      ')}` : ''),
      status === 'DELIVER_FAILED' || status === 'TASK_TIMEOUT'
        ? `the TAT agent on ${instanceId} did not answer: check the instance is running (public images ship the agent), then resume with --from-phase ${ctx.phase}`
        : `read the output above (on the host: journalctl -u wschat-gateway), fix it, then resume with --from-phase ${ctx.phase}`,
      ctx.phase,
    );
  }
}

export interface GatewayHost {
  instanceId: string;
  privateIp: string;
  publicIp: string;
}

function hostOf(instance: JsonObject): GatewayHost {
  return {
    instanceId: field(instance, 'InstanceId') ?? '',
    privateIp: strings(instance.PrivateIpAddresses)[0] ?? '',
    publicIp: strings(instance.PublicIpAddresses)[0] ?? '',
  };
}

/**
 * Makes the host run this release with this environment: uploads both, then creates the instance (first boot
 * runs the install script) or, when the record says the running ones differ, runs the install script through TAT.
 */
export async function ensureGateway(
  ctx: DeployContext,
  stack: Stack,
  network: Network,
  securityGroupId: string,
  release: Buffer,
  variables: Record<string, string>,
): Promise<GatewayHost> {
  const env = envFile(variables);
  const releaseSha = sha256(release);
  const envSha = sha256(env);
  await upload(ctx, gatewayKey(stack, 'release.tgz'), release, 'application/gzip');
  await upload(ctx, gatewayKey(stack, 'gateway.env'), env, 'text/plain');
  const script = () =>
    installScript(stack, {
      release: ctx.bucket!.signedUrl(gatewayKey(stack, 'release.tgz'), URL_SECONDS),
      env: ctx.bucket!.signedUrl(gatewayKey(stack, 'gateway.env'), URL_SECONDS),
    });
  const record = await readRecord(ctx, stack);
  let instance = await findInstance(ctx, stack);
  if (!instance) {
    const g = stack.gateway;
    const created = await call(ctx, 'cvm', 'RunInstances', {
      InstanceChargeType: 'POSTPAID_BY_HOUR',
      Placement: { Zone: stack.network.zone },
      InstanceType: g.instanceType,
      ImageId: await findImage(ctx, stack),
      SystemDisk: { DiskSize: g.systemDiskGb },
      VirtualPrivateCloud: {
        VpcId: network.vpcId,
        SubnetId: network.subnetId,
        PrivateIpAddresses: [g.privateIp],
      },
      InternetAccessible: {
        InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR',
        InternetMaxBandwidthOut: g.bandwidthMbps,
        PublicIpAssigned: true,
      },
      InstanceCount: 1,
      InstanceName: g.name,
      SecurityGroupIds: [securityGroupId],
      // A retried request within the token's lifetime returns the same instance instead of a second one.
      ClientToken: `wschat-${sha256(`${stack.tag}/${releaseSha}/${envSha}`).slice(0, 40)}`,
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: STACK_TAG, Value: stack.tag }] }],
      UserData: Buffer.from(script()).toString('base64'),
    });
    const instanceId = strings(created.InstanceIdSet)[0];
    if (!instanceId) {
      throw new DeployError('RunInstances returned no instance id', 'resume with --from-phase 4', ctx.phase);
    }
    ctx.print(
      `    + instance ${instanceId} (${g.instanceType}, ${stack.network.zone}) created; waiting for RUNNING`,
    );
    instance = await runningInstance(ctx, instanceId);
    // First boot ran the install script as UserData; this waits for it and checks the gateway answers.
    await runOnHost(ctx, instanceId, 'wschat-gateway-ready', readyScript(stack));
    record.gateway = { instanceId, releaseSha, envSha };
    await writeRecord(ctx, stack, record);
  } else {
    const instanceId = field(instance, 'InstanceId') ?? '';
    if (field(instance, 'InstanceState') !== 'RUNNING') {
      instance = await runningInstance(ctx, instanceId);
    }
    const applied = record.gateway;
    if (
      applied?.instanceId === instanceId &&
      applied.releaseSha === releaseSha &&
      applied.envSha === envSha
    ) {
      ctx.print(`    = instance ${instanceId} already runs this release and environment`);
    } else {
      await runOnHost(ctx, instanceId, 'wschat-gateway-install', script());
      record.gateway = { instanceId, releaseSha, envSha };
      await writeRecord(ctx, stack, record);
      ctx.print(`    ~ instance ${instanceId}: release and environment applied, gateway restarted`);
    }
  }
  const host = hostOf(instance);
  if (host.privateIp !== stack.gateway.privateIp) {
    throw new DeployError(
      `instance ${host.instanceId} has private IP ${host.privateIp || '(none)'}, not gateway.privateIp ${stack.gateway.privateIp}`,
      'the push URL depends on it: terminate the instance (npm run deploy -- --remove keeps the bucket), then deploy again',
      ctx.phase,
    );
  }
  return host;
}
