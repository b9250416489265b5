import type { PushHook } from '../../code/gateway/push-listener';
import type { GatewayEvent } from '../../code/gateway/hub';

/**
 * `npm start`'s test and benchmark hooks on the push listener, kept out of the production gateway: virtual
 * connections (counted like live ones, no socket: benchmarks fan out to thousands without holding them), added
 * latency, and injected faults.
 */

export interface PushFault {
  /** status: answer with it; hang: never answer; drop: destroy the socket; gone: answer as for an unknown ID. */
  mode: 'status' | 'hang' | 'drop' | 'gone';
  status?: number;
  /** Only pushes to this connection. */
  connectionId?: string;
  /** How many pushes it applies to; unlimited when omitted. */
  times?: number;
}

export interface PushStats {
  requests: number;
  delivered: number;
  /** Of `delivered`, how many went to virtual connections. */
  virtual: number;
  unknown: number;
  closed: number;
  /** Frames delivered from transport's answers, which cost no push (docs/gateway.md). */
  replies: number;
}

export function createDevPushHook() {
  let faults: Array<PushFault & { used: number }> = [];
  let latencyMs = 0;
  const virtual = new Set<string>();
  const noPushes = (): PushStats => ({
    requests: 0,
    delivered: 0,
    virtual: 0,
    unknown: 0,
    closed: 0,
    replies: 0,
  });
  const stats = noPushes();
  const ok = { answer: { status: 200, errNo: 0, errMsg: 'ok' } };
  const gone = { answer: { status: 410, errNo: 410, errMsg: 'connection not found' } };

  const hook: PushHook = async (push) => {
    stats.requests += 1;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const fault = faults.find(
      (f) =>
        (f.connectionId === undefined || f.connectionId === push.connectionId) &&
        (f.times === undefined || f.used < f.times),
    );
    if (fault) {
      fault.used += 1;
      if (fault.mode === 'hang') return { hang: true };
      if (fault.mode === 'drop') return { drop: true };
      if (fault.mode === 'status')
        return {
          answer: { status: fault.status ?? 500, errNo: fault.status ?? 500, errMsg: 'injected fault' },
        };
      stats.unknown += 1;
      return gone;
    }
    if (virtual.has(push.connectionId)) {
      if (push.kind === 'close') virtual.delete(push.connectionId);
      stats.delivered += 1;
      stats.virtual += 1;
      return ok;
    }
    return undefined;
  };

  return {
    hook,
    /** Counts what the gateway did with the pushes the hook let through. */
    observe(event: GatewayEvent): void {
      if (event.kind === 'reply' && event.outcome === 'delivered') stats.replies += 1;
      if (event.kind !== 'push') return;
      if (event.outcome === 'delivered') stats.delivered += 1;
      else if (event.outcome === 'closed') stats.closed += 1;
      else stats.unknown += 1;
    },
    addVirtualConnections(ids: string[]) {
      for (const id of ids) virtual.add(id);
    },
    setPushLatency(ms: number) {
      latencyMs = ms;
    },
    injectPushFault(fault: PushFault) {
      faults.push({ ...fault, used: 0 });
    },
    clearPushFaults() {
      faults = [];
    },
    pushStats: (): PushStats => ({ ...stats }),
    resetPushStats() {
      Object.assign(stats, noPushes());
    },
  };
}
