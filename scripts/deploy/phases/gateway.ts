import { existsSync } from 'fs';
import { shown, type DeployContext } from '../context';
import { DeployError } from '../errors';
import { ensureNetwork, functionUrls } from '../functions';
import {
  ensureGateway,
  ensureSecurityGroup,
  gatewayKey,
  gatewaySecret,
  gatewayVariables,
  installScript,
  readyScript,
  releaseArchive,
  type GatewayHost,
} from '../gateway';
import { GATEWAY_FUNCTION_URL_VARS, STACK_TAG, pushUrlOf, type Stack } from '../stack';
import type { Phase } from './phase';

// Phase 4: the gateway host (deploy phase one).
export async function gatewayInputs(ctx: DeployContext, stack: Stack, mayCreateSecret: boolean) {
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

export const gateway: Phase = {
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
