import { shown } from '../context';
import {
  deployFunctions,
  ensureNetwork,
  ensureRole,
  FUNCTION_URL_DESC,
  functionPolicy,
  SCF_TRUST_POLICY,
} from '../functions';
import type { Phase } from './phase';

// Phase 3: the execution role, the network, the functions and their triggers.
export const functions: Phase = {
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
