import { call, callOrMissing, cos, field, objects, tagsOf, waitFor, type DeployContext } from './context';
import { DeployError, errorMessage } from './errors';
import { getFunction } from './functions';
import { findInstance, findSecurityGroup } from './gateway';
import { STACK_TAG, type Stack } from './stack';

// npm run deploy -- --remove [--delete-bucket]
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
