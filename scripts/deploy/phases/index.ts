import { bucket } from './bucket';
import { build } from './build';
import { functions } from './functions';
import { gateway } from './gateway';
import type { Phase } from './phase';
import { smoke } from './smoke';
import { webConfig } from './web-config';
import { wire } from './wire';

export type { Phase } from './phase';
export { webConfigFile } from './web-config';

/** In order; `--from-phase N` starts at the one numbered N. */
export const PHASES: Phase[] = [build, bucket, functions, gateway, wire, webConfig, smoke];
