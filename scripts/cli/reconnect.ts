import { backoffDelay } from '../../code/util/backoff';

/** When and whether the terminal client connects again after a connection failed or was lost. */

export const MIN_DELAY_MS = 500;
export const MAX_DELAY_MS = 15_000;
/** Handshake refusals (HTTP 4xx) in a row after which retrying is pointless. */
export const MAX_REFUSALS = 3;

/**
 * Exponential backoff with "full jitter" above a floor: attempt n waits a random time in
 * [0.5 s, min(15 s, 0.5 s * 2^n)], so clients dropped together (a gateway restart) do not reconnect together,
 * and never sooner than 0.5 s.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const backoff = { baseMs: MIN_DELAY_MS, maxMs: MAX_DELAY_MS, floorMs: MIN_DELAY_MS };
  return Math.round(backoffDelay(attempt, backoff, random));
}

/** Why a connection attempt or a connection ended. */
export interface Failure {
  /** HTTP status when the server answered the handshake with something other than 101. */
  status?: number;
  /** The gateway's `errMsg` (from its JSON body), or the network error. */
  reason: string;
}

export type Decision = { action: 'retry'; delayMs: number } | { action: 'give-up'; reason: string };

export function isAuthRefusal(failure: Failure): boolean {
  return failure.status === 401 || (failure.status === 403 && /^unauthori[sz]ed/i.test(failure.reason));
}

/**
 * Network errors, 5xx and dropped connections are retried for ever (Ctrl-C ends the client). A refused
 * handshake is different: a bad or missing token is final; so is any other refusal before we ever got in (the
 * nick or room is wrong), unless the server says to try again; after that, a few refusals in a row are allowed
 * (a registry hiccup) before giving up.
 */
export class Reconnector {
  private attempt = 0;
  private refusals = 0;
  private everConnected = false;

  constructor(private readonly random: () => number = Math.random) {}

  /** The server accepted us (join acknowledged): the next failure starts from the shortest delay again. */
  joined(): void {
    this.attempt = 0;
    this.refusals = 0;
    this.everConnected = true;
  }

  /** The handshake succeeded; refusals no longer count as consecutive, but backoff keeps growing until joined. */
  opened(): void {
    this.refusals = 0;
    this.everConnected = true;
  }

  failed(failure: Failure): Decision {
    const refused = failure.status !== undefined && failure.status >= 400 && failure.status < 500;
    if (refused) {
      this.refusals += 1;
      const hint = failure.reason ? `: ${failure.reason}` : '';
      const refusedOnce = `the server refused the connection (${failure.status})${hint}`;
      if (isAuthRefusal(failure)) return { action: 'give-up', reason: refusedOnce };
      if (!this.everConnected && !/try again/i.test(failure.reason))
        return { action: 'give-up', reason: refusedOnce };
      if (this.refusals >= MAX_REFUSALS) {
        const times = `the server refused the connection ${this.refusals} times in a row`;
        return { action: 'give-up', reason: `${times} (${failure.status})${hint}` };
      }
    } else {
      this.refusals = 0;
    }
    const delayMs = reconnectDelay(this.attempt, this.random);
    this.attempt += 1;
    return { action: 'retry', delayMs };
  }
}
