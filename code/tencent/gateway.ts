/**
 * The only module that knows Tencent Cloud field names: API Gateway WEBSOCKET events, the register reply,
 * the push (反向推送) request body, API Gateway HTTP events and SCF timer events.
 *
 * Source: "Websocket 原理介绍" https://cloud.tencent.com/document/product/583/32553 (tencentyun/qcloud-documents);
 * what that page leaves open, our gateway decides (docs/gateway.md). Parsers turn untrusted JSON into our own types or a
 * `GatewayEventError` with a message a person can act on; builders are shared by the handlers, the local
 * gateway emulator and the tests so that the three cannot drift apart.
 *
 * About 400 lines, kept as one file on purpose: it is the whole Tencent wire format, parsers next to the
 * builders of the same shapes, and its exported names are what the gateway, the emulator and the tests import.
 */

import type {
  CloseRequest,
  ConnectOutcome,
  ConnectRefusal,
  ConnectRequest,
  FrameOutcome,
  FrameRequest,
  FrameType,
} from '../chat/requests';
import { isJsonObject, ownField, ownString, type JsonObject } from '../util/json';

// The core owns these types; they are re-exported so that the emulator and the tests keep one import.
export type { CloseRequest, ConnectRequest, FrameOutcome, FrameRequest, FrameType };

export class GatewayEventError extends Error {
  override readonly name = 'GatewayEventError';
  constructor(
    message: string,
    /** errNo to answer with; 101/102 are the values of Tencent's own register sample. */
    readonly errNo: number,
  ) {
    super(message);
  }
}

/** 128 random bits, base64: 24 characters with padding. The doc says "共32个字符"; we accept any sane length. */
const CONNECTION_ID = /^[A-Za-z0-9+/]{1,254}={0,2}$/;

function websocketSection(event: unknown): JsonObject {
  if (!isJsonObject(event)) throw new GatewayEventError('event is not a JSON object', 100);
  const websocket = ownField(event, 'websocket');
  if (!isJsonObject(websocket)) throw new GatewayEventError('not found websocket', 102);
  return websocket;
}

function connectionIdOf(websocket: JsonObject): string {
  const id = ownField(websocket, 'secConnectionID');
  if (typeof id !== 'string' || id.length === 0)
    throw new GatewayEventError('not found secConnectionID', 103);
  if (!CONNECTION_ID.test(id)) throw new GatewayEventError('secConnectionID is not base64', 104);
  return id;
}

export function parseConnectEvent(event: unknown): ConnectRequest {
  const websocket = websocketSection(event);
  const connectionId = connectionIdOf(websocket);
  const context = isJsonObject(event) ? ownField(event, 'requestContext') : undefined;
  const offered = ownString(websocket, 'secWebSocketProtocol') ?? '';
  return {
    connectionId,
    protocols: offered
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
    sourceIp: isJsonObject(context) ? ownString(context, 'sourceIp') : undefined,
    requestId: isJsonObject(context) ? ownString(context, 'requestId') : undefined,
  };
}

/** Upstream data. `action` is deliberately not checked: sources disagree ("data recv" vs "data send"). */
export function parseFrameEvent(event: unknown): FrameRequest {
  const websocket = websocketSection(event);
  const connectionId = connectionIdOf(websocket);
  const data = ownField(websocket, 'data');
  if (typeof data !== 'string') throw new GatewayEventError('not found data', 105);
  const frameType: FrameType = ownField(websocket, 'dataType') === 'binary' ? 'binary' : 'text';
  const request: FrameRequest = { connectionId, frameType, data };
  // Our gateway's additions (docs/gateway.md): it takes the replies with the answer (absent, they are pushed), and
  // it hands back the connection's record (absent, it is read from the registry).
  if (ownField(websocket, 'inlineReplies') === true) request.inlineReplies = true;
  const context = readContext(websocket);
  if (context !== undefined) request.context = context;
  return request;
}

export function parseCloseEvent(event: unknown): CloseRequest {
  const websocket = websocketSection(event);
  const connectionId = connectionIdOf(websocket);
  const request: CloseRequest = { connectionId };
  // Our gateway's additions to Tencent's event (docs/gateway.md): absent, as from Tencent's, the leave is announced
  // and the record read from the registry.
  if (ownField(websocket, 'silent') === true) request.silent = true;
  const context = readContext(websocket);
  if (context !== undefined) request.context = context;
  return request;
}

/**
 * Our `context` field (code/chat/connection-context.ts), the connection's record: a few hundred characters at
 * most. The gateway keeps one per connection, so a longer one is not taken.
 */
export const MAX_CONTEXT_CHARS = 1024;

/** Our `context` field: a string of sane length, else none. */
function readContext(section: JsonObject): string | undefined {
  const context = ownString(section, 'context');
  return context !== undefined && context.length <= MAX_CONTEXT_CHARS ? context : undefined;
}

/** Lenient reader for error paths: the connection ID if the event has a usable one, so we can answer it. */
export function connectionIdIfAny(event: unknown): string | undefined {
  try {
    return connectionIdOf(websocketSection(event));
  } catch {
    return undefined;
  }
}

export interface RegisterReply {
  errNo: number;
  errMsg: string;
  /** Ours, not Tencent's: the admitted connection's record, which our gateway hands back with each frame. */
  context?: string;
  websocket: {
    action: 'connecting';
    secConnectionID: string;
    secWebSocketProtocol?: string;
  };
}

/**
 * The errNo of each refusal. Tencent reads only "0 or not"; distinct values tell the cases apart in logs, and
 * `unauthorized: …` in errMsg is what clients match to stop retrying.
 */
export const REFUSAL_ERR_NO: Readonly<Record<ConnectRefusal, number>> = {
  invalid: 400,
  unauthorized: 401,
  unavailable: 503,
};

/**
 * The errNo values our functions answer with (Tencent's convention: 0 is success, anything else a failure the
 * gateway does not act on beyond refusing a handshake).
 */
export const ERR_NO = {
  ok: 0,
  failed: 1,
  badEvent: 100,
  invocationRefused: 401,
  misconfigured: 500,
} as const;

export interface FunctionReply {
  errNo: number;
  errMsg: string;
}

export function functionReply(
  kind: keyof typeof ERR_NO,
  errMsg: string = kind === 'ok' ? 'ok' : kind,
): FunctionReply {
  return { errNo: ERR_NO[kind], errMsg };
}

/**
 * Transport's answer. Ours, not Tencent's: `replies` are text frames for the sender, in order; `context` is the
 * sender's record when it changed, for the gateway to hand back from now on.
 */
export interface TransportReply extends FunctionReply {
  replies?: string[];
  context?: string;
}

export function transportReply({ replies, context }: FrameOutcome): TransportReply {
  const reply: TransportReply = functionReply('ok');
  if (replies.length > 0) reply.replies = replies;
  if (context !== undefined) reply.context = context;
  return reply;
}

/** A transport answer as the gateway reads it: text frames only, a context only of sane length. */
export function readTransportReply(reply: unknown): FrameOutcome {
  if (!isJsonObject(reply)) return { replies: [] };
  const replies = ownField(reply, 'replies');
  const outcome: FrameOutcome = {
    replies: Array.isArray(replies)
      ? replies.filter((frame): frame is string => typeof frame === 'string')
      : [],
  };
  const context = readContext(reply);
  if (context !== undefined) outcome.context = context;
  return outcome;
}

/** A refusal decided before the core was asked (unreadable event, bad configuration). */
export type EarlyRefusal = { ok: false; errNo: number; errMsg: string };

/**
 * errNo 0 accepts the handshake; any other value refuses it. The gateway passes ONE chosen sub-protocol back
 * to the client, so we answer with the single protocol we accepted (never the offered list).
 */
export function registerReply(connectionId: string, outcome: ConnectOutcome | EarlyRefusal): RegisterReply {
  const websocket: RegisterReply['websocket'] = { action: 'connecting', secConnectionID: connectionId };
  if (outcome.ok) {
    if (outcome.protocol) websocket.secWebSocketProtocol = outcome.protocol;
    return outcome.context === undefined
      ? { errNo: 0, errMsg: 'ok', websocket }
      : { errNo: 0, errMsg: 'ok', websocket, context: outcome.context };
  }
  if ('errNo' in outcome) return { errNo: outcome.errNo, errMsg: outcome.errMsg, websocket };
  return { errNo: REFUSAL_ERR_NO[outcome.refusal], errMsg: outcome.message, websocket };
}

export interface PushBody {
  websocket:
    | { action: 'data send'; secConnectionID: string; dataType: FrameType; data: string }
    | { action: 'closing'; secConnectionID: string };
}

export function pushDataBody(connectionId: string, text: string): PushBody {
  return { websocket: { action: 'data send', secConnectionID: connectionId, dataType: 'text', data: text } };
}

export function pushCloseBody(connectionId: string): PushBody {
  return { websocket: { action: 'closing', secConnectionID: connectionId } };
}

export type PushRequest =
  | { kind: 'send'; connectionId: string; frameType: FrameType; data: string }
  | { kind: 'close'; connectionId: string };

/** Read a push request (used by the local gateway emulator, which plays the part of Tencent's push endpoint). */
export function parsePushBody(body: unknown): PushRequest {
  const websocket = websocketSection(body);
  const connectionId = connectionIdOf(websocket);
  const action = ownField(websocket, 'action');
  if (action === 'closing') return { kind: 'close', connectionId };
  if (action !== 'data send')
    throw new GatewayEventError(`unknown push action ${JSON.stringify(action)}`, 106);
  const data = ownField(websocket, 'data');
  if (typeof data !== 'string') throw new GatewayEventError('not found data', 105);
  const frameType: FrameType = ownField(websocket, 'dataType') === 'binary' ? 'binary' : 'text';
  return { kind: 'send', connectionId, frameType, data };
}

/* ---------- event builders: what the gateway sends to SCF (used by the emulator and tests) ---------- */

export interface WsConnectEvent {
  requestContext: {
    serviceName: string;
    path: string;
    httpMethod: 'GET';
    requestId: string;
    identity: Record<string, string>;
    sourceIp: string;
    stage: string;
    websocketEnable: true;
  };
  websocket: {
    action: 'connecting';
    secConnectionID: string;
    secWebSocketProtocol?: string;
    secWebSocketExtensions?: string;
  };
}

export function buildConnectEvent(opts: {
  connectionId: string;
  requestId: string;
  sourceIp: string;
  path: string;
  protocols?: string[];
  stage?: string;
}): WsConnectEvent {
  const event: WsConnectEvent = {
    requestContext: {
      serviceName: 'local',
      path: opts.path,
      httpMethod: 'GET',
      requestId: opts.requestId,
      identity: {},
      sourceIp: opts.sourceIp,
      stage: opts.stage ?? 'release',
      websocketEnable: true,
    },
    websocket: { action: 'connecting', secConnectionID: opts.connectionId },
  };
  // "该字段不出现" when the client sent no Sec-WebSocket-Protocol header.
  if (opts.protocols && opts.protocols.length > 0)
    event.websocket.secWebSocketProtocol = opts.protocols.join(',');
  return event;
}

export interface WsFrameEvent {
  /**
   * Ours, not Tencent's: `inlineReplies`, the gateway delivers the answer's `replies`; `context`, the connection's
   * record as register or transport last answered it (FrameRequest).
   */
  websocket: {
    action: 'data send';
    secConnectionID: string;
    dataType: FrameType;
    data: string;
    inlineReplies?: true;
    context?: string;
  };
}

export function buildFrameEvent(
  connectionId: string,
  frameType: FrameType,
  data: string,
  ours: { inlineReplies?: boolean; context?: string } = {},
): WsFrameEvent {
  const event: WsFrameEvent = {
    websocket: { action: 'data send', secConnectionID: connectionId, dataType: frameType, data },
  };
  if (ours.inlineReplies) event.websocket.inlineReplies = true;
  if (ours.context !== undefined) event.websocket.context = ours.context;
  return event;
}

export interface WsCloseEvent {
  /**
   * Ours, not Tencent's: `silent`, the client sent no frame that reached transport (CloseRequest.silent);
   * `context`, the connection's record as the gateway last held it.
   */
  websocket: { action: 'closing'; secConnectionID: string; silent?: true; context?: string };
}

export function buildCloseEvent(connectionId: string, silent = false, context?: string): WsCloseEvent {
  const event: WsCloseEvent = { websocket: { action: 'closing', secConnectionID: connectionId } };
  if (silent) event.websocket.silent = true;
  if (context !== undefined) event.websocket.context = context;
  return event;
}

/** Read the register reply the way the gateway does: only errNo 0 admits the client. */
export function readRegisterReply(reply: unknown): {
  accepted: boolean;
  protocol?: string;
  errMsg: string;
  context?: string;
} {
  if (!isJsonObject(reply)) return { accepted: false, errMsg: 'register returned no object' };
  const errNo = ownField(reply, 'errNo');
  const errMsg = ownString(reply, 'errMsg') ?? '';
  const websocket = ownField(reply, 'websocket');
  const protocol = isJsonObject(websocket) ? ownString(websocket, 'secWebSocketProtocol') : undefined;
  const context = errNo === 0 ? readContext(reply) : undefined;
  return {
    accepted: errNo === 0,
    protocol: protocol || undefined,
    errMsg,
    ...(context === undefined ? {} : { context }),
  };
}

/* ---------- API Gateway HTTP trigger (publish API) ---------- */

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpResponse {
  isBase64Encoded: false;
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * API Gateway → SCF integration request (https://cloud.tencent.com/document/product/583/12513): `httpMethod`,
 * `path`, `headers` (lower-cased names), `body` (string), `isBase64Encoded`.
 */
export function parseHttpEvent(event: unknown): HttpRequest {
  if (!isJsonObject(event)) throw new GatewayEventError('event is not a JSON object', 100);
  const rawHeaders = ownField(event, 'headers');
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  if (isJsonObject(rawHeaders)) {
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
  }
  let body = ownString(event, 'body') ?? '';
  if (ownField(event, 'isBase64Encoded') === true) body = Buffer.from(body, 'base64').toString('utf8');
  return {
    method: (ownString(event, 'httpMethod') ?? 'GET').toUpperCase(),
    path: ownString(event, 'path') ?? '/',
    headers,
    body,
  };
}

export function buildHttpEvent(req: HttpRequest): JsonObject {
  return {
    httpMethod: req.method,
    path: req.path,
    headers: req.headers,
    body: req.body,
    isBase64Encoded: false,
    queryString: {},
    requestContext: { serviceName: 'local', path: req.path, httpMethod: req.method, stage: 'release' },
  };
}

export function httpResponse(statusCode: number, payload: unknown): HttpResponse {
  return {
    isBase64Encoded: false,
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
  };
}

/** SCF timer trigger event (https://cloud.tencent.com/document/product/583/9708). */
export function buildTimerEvent(now: Date): JsonObject {
  return {
    Type: 'Timer',
    TriggerName: 'sweep',
    Time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    Message: '',
  };
}
