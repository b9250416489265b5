import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';
import { sweepOrThrow } from './uses';

/** SCF timer function: removes stale connections, orphan records and expired history. */
export function createSweepHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'sweep',
    run: (_event, container) => sweepOrThrow(container),
    misconfigured: (_event, error) => {
      throw error;
    },
  });
}

export const main_handler = createSweepHandler(containerFromEnv);
