import path from 'path';
import { shown, writeAtomically, type DeployContext } from '../context';
import { DeployError } from '../errors';
import { findInstance } from '../gateway';
import { heartbeatSeconds, pushUrlOf, type Stack } from '../stack';
import type { Phase } from './phase';

// Phase 6: the web client's config, and the public URLs.
export function webConfigFile(ctx: DeployContext): string {
  return path.join(ctx.outDir, 'web', 'config.json');
}

export async function publicAddress(ctx: DeployContext, stack: Stack): Promise<string> {
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

export const webConfig: Phase = {
  number: 6,
  title: 'write the web client config and print the URLs',
  plan(ctx, stack) {
    return [
      "api cvm.DescribeInstances   (the gateway's public IP)",
      `write ${shown(ctx, webConfigFile(ctx))}: {"wsUrl":"ws://<public IP>:${stack.gateway.publicPort}/ws",` +
        `"heartbeatSeconds":${heartbeatSeconds(stack)},"authRequired":<AUTH_SECRET set>}`,
    ];
  },
  async run(ctx, stack) {
    const address = await publicAddress(ctx, stack);
    const authRequired = Boolean(stack.functions.find((f) => f.key === 'register')?.variables.AUTH_SECRET);
    const wsUrl = `ws://${address}/ws`;
    const file = webConfigFile(ctx);
    writeAtomically(
      file,
      `${JSON.stringify({ wsUrl, heartbeatSeconds: heartbeatSeconds(stack), authRequired }, null, 2)}\n`,
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
