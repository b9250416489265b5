import type { GatewayLimits } from './config';

/**
 * One client connection as the gateway holds it: the channel to write to, and the per-connection limits that
 * make a flood cheap to refuse. Frames wait in a short queue for a rate token and an invocation slot; the queue's
 * bound (frames and bytes) is the point where a client is flooding rather than bursting, and it is closed.
 */

export interface ClientChannel {
  /** 'sse': a server-sent event stream (code/gateway/sse.ts), whose frames arrive as POSTs. */
  readonly kind: 'websocket' | 'sse';
  send(data: string | Buffer, binary: boolean): void;
  /** Bytes accepted by send() that the client has not read yet. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
}

export type FrameOutcome = 'invoked' | 'failed' | 'dropped';

export interface QueuedFrame {
  data: Buffer;
  binary: boolean;
  /** Told once how the frame ended: an SSE send answers its POST from it. */
  settled?: (outcome: FrameOutcome) => void;
}

export type CloseCause =
  | 'client'
  | 'idle'
  | 'no-pong'
  | 'flood'
  | 'slow-reader'
  | 'push-closing'
  | 'transport-failed'
  | 'drain'
  | 'too-large'
  | 'error';

export class Connection {
  private tokens: number;
  private refilledAt: number;
  readonly queue: QueuedFrame[] = [];
  queuedBytes = 0;
  inflight = 0;
  /** Set once the gateway decided to close it; the channel's own close event finishes it. */
  closeCause?: CloseCause;
  /** Cleared by ping sweeps, set by pongs. */
  alive = true;
  /** The record register, then transport, last answered for it, handed back with each frame (FunctionWire). */
  context?: string;
  /** Frames of it are in transport side by side (the limit above 1): its record is not sure until they end. */
  overlapped = false;
  /** Set when one of its frames is handed to transport: until then the room was never told it arrived. */
  spoke = false;
  idleTimer?: NodeJS.Timeout;
  rateTimer?: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly channel: ClientChannel,
    private readonly limits: GatewayLimits,
    now: number,
  ) {
    this.tokens = limits.frameBurst;
    this.refilledAt = now;
  }

  /** False when the frame would overflow the queue: the caller closes the connection. */
  enqueue(frame: QueuedFrame): boolean {
    const maxBytes = Math.max(4 * this.limits.maxFrameBytes, 256 * 1024);
    if (this.queue.length >= this.limits.maxQueuedFrames || this.queuedBytes + frame.data.length > maxBytes)
      return false;
    this.queue.push(frame);
    this.queuedBytes += frame.data.length;
    return true;
  }

  /**
   * The next frame that may be invoked now, or the milliseconds until a rate token is due (0 when the queue is
   * empty or every invocation slot of this connection is taken).
   */
  take(now: number): QueuedFrame | number {
    if (this.queue.length === 0 || this.inflight >= this.limits.maxInflightPerConnection) return 0;
    this.tokens = Math.min(
      this.limits.frameBurst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.limits.framesPerSecond,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return Math.ceil(((1 - this.tokens) / this.limits.framesPerSecond) * 1000);
    this.tokens -= 1;
    const frame = this.queue.shift()!;
    this.queuedBytes -= frame.data.length;
    return frame;
  }

  dropQueue(): number {
    const dropped = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const frame of dropped) frame.settled?.('dropped');
    return dropped.length;
  }
}
