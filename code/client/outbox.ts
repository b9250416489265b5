import type { ChatMessage, ClientCommand } from '../chat/protocol';
import type { SendUpdate, SessionEvent, SessionPorts } from './session';

/**
 * What a client has to send, one command in flight at a time (see flush), paced, each message with its cid;
 * how each ended goes to the face as a `send` event. The session decides when sending may start (ready).
 */

export interface Pending {
  ref: string;
  command: ClientCommand;
  /** Messages only. */
  cid?: string;
  state: 'queued' | 'sending' | 'unconfirmed' | 'failed';
  cancelTimer?: () => void;
}

/** Codes worth a retry: the same message may well go through later. */
const RETRYABLE = new Set<string>(['rate_limited', 'store_unavailable', 'internal', 'timeout']);

export interface OutboxOptions {
  ackTimeoutMs?: number;
  ratePerSecond?: number;
  burst?: number;
}

export class Outbox {
  private readonly queue: Pending[] = [];
  private readonly byRef = new Map<string, Pending>();
  private tokens: number;
  private tokensAt: number;
  private cancelFlush?: () => void;
  /** Set by the session: sending starts once it has caught up. */
  ready = false;

  constructor(
    private readonly options: OutboxOptions,
    private readonly ports: SessionPorts,
    private readonly nextRef: (prefix: string) => string,
  ) {
    this.tokens = options.burst ?? 10;
    this.tokensAt = ports.now();
  }

  /** Sends typed but not yet answered (queued, in flight, or awaiting the catch-up's verdict). */
  get outstanding(): number {
    return this.queue.filter((p) => p.state !== 'failed').length;
  }

  /** The command a ref answers, while it is out. */
  answering(ref: string | undefined): Pending | undefined {
    return ref === undefined ? undefined : this.byRef.get(ref);
  }

  get inFlight(): Pending | undefined {
    return this.queue.find((p) => p.state === 'sending');
  }

  add(command: ClientCommand, cid?: string): void {
    const pending: Pending = { ref: this.nextRef(prefixOf(command)), command, cid, state: 'queued' };
    this.queue.push(pending);
    if (cid !== undefined) this.emitSend(pending, { state: 'queued' });
    this.flush();
  }

  /** Commands that go before everything queued, in this order (restoring name and room, say). */
  addFirst(commands: ClientCommand[]): void {
    const pending = commands.map((command): Pending => ({
      ref: this.nextRef(prefixOf(command)),
      command,
      state: 'queued',
    }));
    this.queue.unshift(...pending);
    this.flush();
  }

  /** Sends a failed message again, with the same cid (the server drops it if the first attempt got through). */
  retry(cid: string): void {
    const pending = this.queue.find((p) => p.cid === cid && p.state === 'failed');
    if (!pending) return;
    pending.state = 'queued';
    // Behind what is queued now, as if typed again; the cid keeps it from being stored twice.
    this.queue.splice(this.queue.indexOf(pending), 1);
    this.queue.push(pending);
    this.emitSend(pending, { state: 'queued' });
    this.flush();
  }

  /** The connection broke: what was in flight is unconfirmed (messages) or simply goes again (the rest). */
  connectionLost(): void {
    this.ready = false;
    this.cancelFlush?.();
    for (const pending of this.queue) {
      if (pending.state !== 'sending') continue;
      pending.cancelTimer?.();
      this.byRef.delete(pending.ref);
      // A message may have gone through: the catch-up tells (by cid).
      pending.state = pending.command.type === 'message' ? 'unconfirmed' : 'queued';
      if (pending.cid !== undefined) this.emitSend(pending, { state: 'queued' });
    }
  }

  /**
   * Sends that were in flight when a connection broke: found in the catch-up (by cid) means delivered, and
   * `seen` marks it so that it is not shown again as a message; the others are sent again with their cid.
   */
  settle(messages: ChatMessage[], seen: (id: string) => void): void {
    for (const pending of [...this.queue]) {
      if (pending.state !== 'unconfirmed') continue;
      const found = messages.find((m) => m.cid !== undefined && m.cid === pending.cid);
      if (!found) {
        pending.state = 'queued';
        continue;
      }
      seen(found.id);
      this.complete(pending, { state: 'delivered', id: found.id, ts: found.ts });
    }
  }

  /**
   * Sends the oldest queued command once the one before it is answered. The gateway may run two frames of one
   * connection in parallel function instances, so frames sent back to back can take effect in either order; one
   * in flight keeps what was typed in order.
   */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (!this.ready || this.inFlight) return;
    const next = this.queue.find((p) => p.state === 'queued');
    if (!next) return;
    const now = this.ports.now();
    const rate = this.options.ratePerSecond ?? 4;
    this.tokens = Math.min(this.options.burst ?? 10, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) {
      const wait = Math.ceil(((1 - this.tokens) / rate) * 1000);
      this.cancelFlush = this.ports.setTimer(wait, () => this.flush());
      return;
    }
    this.tokens -= 1;
    next.state = 'sending';
    // A fresh ref per attempt: a late answer to an earlier attempt cannot be mistaken for this one's.
    this.byRef.delete(next.ref);
    next.ref = this.nextRef(prefixOf(next.command));
    this.byRef.set(next.ref, next);
    this.ports.send(JSON.stringify({ ...next.command, ref: next.ref }));
    if (next.cid === undefined) return;
    this.emitSend(next, { state: 'sending' });
    const timeout = this.options.ackTimeoutMs;
    if (timeout === undefined) return;
    next.cancelTimer = this.ports.setTimer(timeout, () => {
      if (next.state === 'sending')
        this.fail(next, 'timeout', 'the server did not confirm it; retrying is safe');
    });
  }

  /** Done with a command; `update` says how a message ended. Frees the slot for the next. */
  complete(pending: Pending, update?: Omit<SendUpdate, 'cid' | 'text'>): void {
    pending.cancelTimer?.();
    this.byRef.delete(pending.ref);
    const at = this.queue.indexOf(pending);
    if (at !== -1) this.queue.splice(at, 1);
    if (update) this.emitSend(pending, update);
    this.flush();
  }

  /** A message the server refused or did not answer; retryable ones stay, under their ref, for retry(). */
  fail(pending: Pending, code: string, reason: string): void {
    pending.cancelTimer?.();
    if (pending.cid === undefined || !RETRYABLE.has(code)) {
      this.complete(pending, { state: 'failed', code, reason, retryable: false });
      return;
    }
    // Kept, under its ref: a late ack still confirms it.
    pending.state = 'failed';
    this.emitSend(pending, { state: 'failed', code, reason, retryable: true });
    this.flush();
  }

  private emitSend(pending: Pending, update: Omit<SendUpdate, 'cid' | 'text'>): void {
    if (pending.cid === undefined || pending.command.type !== 'message') return;
    const event: SessionEvent = {
      type: 'send',
      update: { cid: pending.cid, text: pending.command.text, ...update },
    };
    this.ports.emit(event);
  }
}

function prefixOf(command: ClientCommand): string {
  return command.type.charAt(0);
}
