import type { DeployContext } from '../context';
import type { Stack } from '../stack';

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
