import { DeployError, errorMessage } from '../errors';
import { smokeCheck } from '../smoke';
import type { Phase } from './phase';
import { publicAddress } from './web-config';

// Phase 7: the smoke check (only with --smoke).
export const smoke: Phase = {
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
