/**
 * What the chat core is asked and what it answers, in its own words. Adapters (code/tencent for Tencent's
 * WebSocket events, code/functions for the SCF entry points) translate to and from these types.
 */

export type FrameType = 'text' | 'binary';

export interface ConnectRequest {
  connectionId: string;
  /** Sub-protocols the client offered (Sec-WebSocket-Protocol), in order. Empty when it offered none. */
  protocols: string[];
  sourceIp?: string;
  requestId?: string;
}

export interface FrameRequest {
  connectionId: string;
  frameType: FrameType;
  /** Text as sent, or base64 for binary frames. */
  data: string;
  /**
   * The gateway takes the replies to the sender back with the invocation's answer (ours does; Tencent's did not),
   * so they need no push of their own: `receive` returns them instead of pushing them.
   */
  inlineReplies?: boolean;
  /** The connection's record as the gateway keeps it (connection-context.ts), when it keeps one. */
  context?: string;
}

/** What handling a frame leaves for the gateway: replies held for the sender, and its record if it changed. */
export interface FrameOutcome {
  /** Only with FrameRequest.inlineReplies; otherwise they were pushed. */
  replies: string[];
  /** The sender's record changed (nick, room): the gateway keeps this one from now on. */
  context?: string;
}

export interface CloseRequest {
  connectionId: string;
  /**
   * The gateway handed none of the client's frames to transport, so it never joined and the room never heard it
   * arrive (a failed page's probe, a client gone mid-handshake): its leave is not announced either.
   */
  silent?: boolean;
  /** The connection's record as the gateway last held it (connection-context.ts), when it keeps one. */
  context?: string;
}

/**
 * Why a connection was refused: `unauthorized` (no valid token), `invalid` (a bad room or nick),
 * `unavailable` (the registry could not store it; the client may try again).
 */
export type ConnectRefusal = 'unauthorized' | 'invalid' | 'unavailable';

/** `context`: the admitted connection's record, for a gateway that keeps it (connection-context.ts). */
export type ConnectOutcome =
  { ok: true; protocol?: string; context?: string } | { ok: false; refusal: ConnectRefusal; message: string };

export interface PublishRequest {
  room: string;
  text: string;
  from?: string;
  /** An idempotency key, as a chat message's `cid`: a retried publish is stored and delivered once. */
  cid?: string;
}
