import { cos } from '../context';
import { DeployError } from '../errors';
import type { Phase } from './phase';

// Phase 2: the COS bucket.
export const bucket: Phase = {
  number: 2,
  title: 'the COS bucket',
  plan(_ctx, stack) {
    return [
      `cos headBucket ${stack.bucket.name}`,
      `cos putBucket ${stack.bucket.name} (ACL private)   (only if missing; never emptied)`,
    ];
  },
  async run(ctx, stack) {
    const name = stack.bucket.name;
    ctx.print(`    cos headBucket ${name}`);
    const state = await cos(ctx, (b) => b.headBucket());
    if (state === 'mine') {
      ctx.print(`    = bucket ${name} exists`);
    } else if (state === 'foreign') {
      throw new DeployError(
        `bucket ${name} exists but this key may not use it (403)`,
        'a COS bucket name is global: if another account owns it, pick another name (COS_BUCKET); otherwise give ' +
          'the deploy key the COS actions of docs/deploy.md ("Permissions"), then resume with --from-phase 2',
        2,
      );
    } else {
      ctx.print(`    cos putBucket ${name} (private)`);
      await cos(ctx, (b) => b.putBucket());
      ctx.print(`    + bucket ${name} created`);
    }
  },
};
