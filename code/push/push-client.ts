/** Sends to connections through the gateway's push (反向推送) URL. One implementation: `http-push-client.ts`. */

/**
 * delivered: the gateway took it. gone: the gateway does not know the connection (prune it).
 * failed: it could not be delivered now (network, timeout, throttling or 5xx after retries; or our own fault).
 */
export type PushOutcome = 'delivered' | 'gone' | 'failed';

export interface PushOptions {
  /** Epoch ms after which no further attempt starts, so a broadcast ends before the function times out. */
  deadline?: number;
}

export interface PushClient {
  send(connectionId: string, text: string, options?: PushOptions): Promise<PushOutcome>;
  /** Asks the gateway to close the connection (push action "closing"). */
  close(connectionId: string, options?: PushOptions): Promise<PushOutcome>;
}
