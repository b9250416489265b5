import { call, field } from '../context';
import { DeployError } from '../errors';
import { activeFunction, ensureNetwork, mergeVariables, variablesOf } from '../functions';
import { ensureGateway, findSecurityGroup, gatewayVariables } from '../gateway';
import { pushUrlOf } from '../stack';
import { gatewayInputs } from './gateway';
import type { Phase } from './phase';

// Phase 5: the push URL and secret into the functions, the function URLs into the gateway (deploy phase two).
export const wire: Phase = {
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
