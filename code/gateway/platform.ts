import * as aws from '../aws/events';
import type { FrameType } from '../tencent/gateway';
import * as tencent from '../tencent/gateway';
import { readHttpReply, type HttpReply } from '../tencent/function-url';

/**
 * Which cloud's function protocol the gateway speaks (GatewayConfig.platform): the events it invokes the
 * functions with and how it reads their answers. Everything else (sockets, limits, queues, cleanup, metrics) is
 * the same code for both. Pushes: see push-listener.ts (Tencent's signed `POST /push`) and connections-api.ts
 * (AWS's `/@connections/{id}`).
 */

export type Platform = 'tencent' | 'aws';

export interface ConnectVerdict {
  accepted: boolean;
  protocol?: string;
  errMsg: string;
  /** The HTTP status a refusal is answered with (AWS passes the $connect answer's own); 403 when unset. */
  status?: number;
  /** Tencent: the connection's record, which the gateway hands back with each frame (ours; AWS: none). */
  context?: string;
}

/** What transport answered for its sender. */
export interface FrameAnswer {
  replies: string[];
  /** The sender's record changed: hand this one back from now on. */
  context?: string;
}

export interface HttpEventInput {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface FunctionWire {
  connectEvent(opts: {
    connectionId: string;
    requestId: string;
    sourceIp: string;
    path: string;
    protocols: string[];
  }): unknown;
  readConnectReply(reply: unknown): ConnectVerdict;
  /** `context`: the connection's record as register or transport last answered it (Tencent only). */
  frameEvent(connectionId: string, frameType: FrameType, data: string, context: string | undefined): unknown;
  /**
   * Text frames for the sender that transport answered with, and its new record (Tencent: our `replies` and
   * `context`, which save the function a push per reply and a COS read per frame; AWS: none, its functions push
   * every reply and read the registry).
   */
  readFrameReply(reply: unknown): FrameAnswer;
  /**
   * `silent`: none of the client's frames reached transport (Tencent's event says so; AWS's cannot). `context`:
   * the record the gateway held for it (Tencent only).
   */
  closeEvent(connectionId: string, silent: boolean, context: string | undefined): unknown;
  /** The publish API's event (Tencent: API Gateway HTTP; AWS: HTTP API payload 2.0). */
  httpEvent(req: HttpEventInput): unknown;
  /** Both clouds answer `{statusCode, headers, body}`. */
  readHttpReply(reply: unknown): HttpReply | undefined;
}

const TENCENT: FunctionWire = {
  connectEvent: (opts) => tencent.buildConnectEvent(opts),
  readConnectReply: tencent.readRegisterReply,
  frameEvent: (id, type, data, context) =>
    tencent.buildFrameEvent(id, type, data, { inlineReplies: true, context }),
  readFrameReply: tencent.readTransportReply,
  closeEvent: tencent.buildCloseEvent,
  httpEvent: tencent.buildHttpEvent,
  readHttpReply,
};

const AWS: FunctionWire = {
  connectEvent: (opts) => aws.buildConnectEvent(opts),
  readConnectReply: aws.readConnectResult,
  frameEvent: (id, type, data) => aws.buildFrameEvent(id, type, data),
  readFrameReply: () => ({ replies: [] }),
  closeEvent: (id) => aws.buildCloseEvent(id),
  httpEvent: (req) => aws.buildHttpApiEvent(req),
  readHttpReply,
};

export function functionWire(platform: Platform | undefined): FunctionWire {
  return platform === 'aws' ? AWS : TENCENT;
}
