import type { ChatContext } from './context';
import { errorMessage } from './log';
import type { ChatMessage } from './protocol';

/**
 * Client message ids (`cid`): one stored and delivered message per cid and room, across retries, connections and
 * containers. The first attempt claims the cid with a create-only COS object holding its message; a retry reads
 * the claim back.
 */

/**
 * How long a retry waits for the first attempt of its cid to reach history before taking over (ms between
 * looks). The first attempt stores its message while it lists the room, usually within tens of milliseconds; one
 * that has not stored it after this is taken to have failed half-way.
 */
const FIRST_ATTEMPT_WAITS_MS = [0, 100, 300, 600];

export type Claim =
  /** No cid, or this attempt claimed it: post `message`. */
  | { kind: 'first'; message: ChatMessage }
  /** A retry whose first attempt is in history: answer with its id, send nothing. */
  | { kind: 'stored'; message: ChatMessage }
  /** A retry whose first attempt never got there (or was not delivered): post the first attempt's message. */
  | { kind: 'retry'; message: ChatMessage };

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function storedSoon(ctx: ChatContext, message: ChatMessage): Promise<boolean> {
  for (const wait of FIRST_ATTEMPT_WAITS_MS) {
    if (wait > 0) await pause(wait);
    if (await ctx.history.has(message)) return true;
  }
  return false;
}

/**
 * Claims `message.cid` for `message`. A retry that posts the first attempt's message keeps its id, so history
 * stores it once (same key) and a recipient that got it from both attempts drops the second by id.
 * A claim that cannot be written throws StoreError: nothing was sent.
 */
export async function claimOnce(ctx: ChatContext, message: ChatMessage): Promise<Claim> {
  const { cid } = message;
  if (cid === undefined) return { kind: 'first', message };
  const claimed = await ctx.history.claim({ ...message, cid });
  if (!claimed) return { kind: 'first', message };
  if (!claimed.undelivered && (await storedSoon(ctx, claimed.message))) {
    ctx.log.info('message_duplicate', { room: message.room, id: claimed.message.id });
    return { kind: 'stored', message: claimed.message };
  }
  ctx.log.warn('message_retry_takes_over', { room: message.room, id: claimed.message.id });
  return { kind: 'retry', message: claimed.message };
}

/** The room could not be read, so nobody received the message: a retry of its cid must deliver it. */
export async function markUndelivered(ctx: ChatContext, message: ChatMessage): Promise<void> {
  const { cid } = message;
  if (cid === undefined) return;
  await ctx.history
    .markUndelivered({ ...message, cid })
    .catch((failure: unknown) => ctx.log.warn('claim_mark_failed', { error: errorMessage(failure) }));
}
