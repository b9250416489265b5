/**
 * The only module that knows AWS field names: API Gateway WebSocket events ($connect, $default, $disconnect) and
 * their Lambda proxy answers, the HTTP API (payload 2.0) event of the publish API, and the @connections paths.
 * The AWS counterpart of code/tencent/gateway.ts: parsers turn untrusted JSON into the core's request types or
 * an `AwsEventError`; builders are shared by the Lambda handlers, the local gateway in AWS shape and the tests.
 *
 * Sources (docs/aws.md cites them): "Setting up a WebSocket API integration request" and the
 * `requestContext` of WebSocket events (apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference),
 * "Working with HTTP API payload format 2.0" (http-api-develop-integrations-lambda), "Use @connections commands
 * in your backend service" (apigateway-how-to-call-websocket-api-connections).
 *
 * About 350 lines, kept as one file on purpose (as code/tencent/gateway.ts is): it is the whole AWS wire format,
 * parsers next to the builders of the same shapes, so that the handlers, the local gateway and the tests cannot drift.
 */

import type {
  CloseRequest,
  ConnectOutcome,
  ConnectRefusal,
  ConnectRequest,
  FrameRequest,
  FrameType,
} from '../chat/requests';
import { isJsonObject, ownField, ownString, type JsonObject } from '../util/json';

export class AwsEventError extends Error {
  override readonly name = 'AwsEventError';
  constructor(
    message: string,
    /** HTTP status to answer with when this refuses a $connect. */
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** AWS IDs are base64 ("L0SM9cOFvHcCIhw="); serverless-offline's are UUIDs; the local gateway's carry a prefix. */
const CONNECTION_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;
const BASE64_ID = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The core's connection ID for an API Gateway one. The registry's keys take the base64 alphabet only
 * (code/registry/keys.ts), which AWS's own IDs use: they pass unchanged, so logs match CloudWatch. Any other ID
 * (serverless-offline's UUIDs) is carried as '=' + base64 of it: no base64 ID starts with '=', so the two never meet.
 */
export function toCoreId(awsId: string): string {
  return BASE64_ID.test(awsId) ? awsId : `=${Buffer.from(awsId, 'utf8').toString('base64')}`;
}

/** The API Gateway connection ID behind a core ID: what the @connections API is called with. */
export function toAwsId(coreId: string): string {
  return coreId.startsWith('=') ? Buffer.from(coreId.slice(1), 'base64').toString('utf8') : coreId;
}

function requestContextOf(event: unknown): JsonObject {
  if (!isJsonObject(event)) throw new AwsEventError('event is not a JSON object');
  const context = ownField(event, 'requestContext');
  if (!isJsonObject(context)) throw new AwsEventError('event has no requestContext');
  return context;
}

function connectionIdOf(context: JsonObject): string {
  const id = ownString(context, 'connectionId');
  if (id === undefined || id === '') throw new AwsEventError('requestContext has no connectionId');
  if (!CONNECTION_ID.test(id)) throw new AwsEventError('requestContext.connectionId is malformed');
  return toCoreId(id);
}

/** Header names arrive as the client sent them; HTTP says they are case-insensitive. */
function headerOf(event: JsonObject, name: string): string | undefined {
  const headers = ownField(event, 'headers');
  if (!isJsonObject(headers)) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

export function parseConnectEvent(event: unknown): ConnectRequest {
  const context = requestContextOf(event);
  const connectionId = connectionIdOf(context);
  const identity = ownField(context, 'identity');
  const offered = headerOf(event as JsonObject, 'Sec-WebSocket-Protocol') ?? '';
  return {
    connectionId,
    protocols: offered
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
    sourceIp: isJsonObject(identity) ? ownString(identity, 'sourceIp') : undefined,
    requestId: ownString(context, 'requestId'),
  };
}

/** A frame on the $default route: text as sent, or base64 with isBase64Encoded for a binary frame. */
export function parseFrameEvent(event: unknown): FrameRequest {
  const context = requestContextOf(event);
  const connectionId = connectionIdOf(context);
  const body = ownField(event as JsonObject, 'body');
  if (typeof body !== 'string') throw new AwsEventError('event has no body');
  const binary = ownField(event as JsonObject, 'isBase64Encoded') === true;
  return { connectionId, frameType: binary ? 'binary' : 'text', data: body };
}

export function parseCloseEvent(event: unknown): CloseRequest {
  return { connectionId: connectionIdOf(requestContextOf(event)) };
}

/** Lenient reader for error paths: the connection ID if the event has a usable one. */
export function connectionIdIfAny(event: unknown): string | undefined {
  try {
    return connectionIdOf(requestContextOf(event));
  } catch {
    return undefined;
  }
}

/* ---------- Lambda proxy answers ---------- */

export interface ProxyResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

export const REFUSAL_STATUS: Readonly<Record<ConnectRefusal, number>> = {
  invalid: 400,
  unauthorized: 401,
  unavailable: 503,
};

/**
 * A 2xx admits the client; anything else refuses the handshake. A chosen sub-protocol must be echoed in
 * Sec-WebSocket-Protocol, or browsers drop the connection (apigateway-websocket-api-route-keys-connect-disconnect).
 */
export function connectResult(outcome: ConnectOutcome | AwsEventError): ProxyResult {
  if (outcome instanceof AwsEventError) return { statusCode: outcome.statusCode, body: outcome.message };
  if (outcome.ok) {
    return outcome.protocol
      ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': outcome.protocol } }
      : { statusCode: 200 };
  }
  return { statusCode: REFUSAL_STATUS[outcome.refusal], body: outcome.message };
}

export function okResult(body = 'ok'): ProxyResult {
  return { statusCode: 200, body };
}

export function failedResult(statusCode: number, message: string): ProxyResult {
  return { statusCode, body: message };
}

/**
 * Read a $connect answer the way API Gateway does: a 2xx admits, the echoed header is the protocol, and a refusal
 * reaches the client with the answer's own status ("Unexpected server response: 400" in AWS's subprotocol guide).
 */
export function readConnectResult(reply: unknown): {
  accepted: boolean;
  protocol?: string;
  errMsg: string;
  status?: number;
} {
  if (!isJsonObject(reply)) return { accepted: false, errMsg: '$connect returned no object', status: 502 };
  const status = ownField(reply, 'statusCode');
  const valid = typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599;
  const accepted = valid && status < 300;
  const protocol = headerOf(reply, 'Sec-WebSocket-Protocol');
  const errMsg = ownString(reply, 'body') ?? '';
  if (accepted) return { accepted, protocol: protocol || undefined, errMsg };
  return { accepted, errMsg, status: valid && status >= 400 ? status : 502 };
}

/* ---------- event builders: what API Gateway sends (used by the local gateway and tests) ---------- */

export interface Stage {
  /** requestContext.domainName and stage: where a handler in AWS would find its @connections endpoint. */
  domainName: string;
  stage: string;
  apiId?: string;
}

const LOCAL_STAGE: Stage = { domainName: 'localhost', stage: 'local', apiId: 'local' };

function baseContext(routeKey: string, eventType: string, connectionId: string, stage: Stage) {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    messageDirection: 'IN',
    extendedRequestId: `${now.toString(36)}${connectionId.slice(-6)}`,
    requestTime: new Date(now).toUTCString(),
    requestTimeEpoch: now,
    stage: stage.stage,
    domainName: stage.domainName,
    apiId: stage.apiId ?? 'local',
    connectionId,
  };
}

export function buildConnectEvent(opts: {
  connectionId: string;
  requestId: string;
  sourceIp: string;
  protocols?: string[];
  stage?: Stage;
}): JsonObject {
  const headers: Record<string, string> = { 'Sec-WebSocket-Version': '13' };
  if (opts.protocols && opts.protocols.length > 0)
    headers['Sec-WebSocket-Protocol'] = opts.protocols.join(', ');
  return {
    headers,
    isBase64Encoded: false,
    requestContext: {
      ...baseContext('$connect', 'CONNECT', opts.connectionId, opts.stage ?? LOCAL_STAGE),
      requestId: opts.requestId,
      connectedAt: Date.now(),
      identity: { sourceIp: opts.sourceIp },
    },
  };
}

export function buildFrameEvent(connectionId: string, frameType: FrameType, data: string, stage?: Stage) {
  return {
    body: data,
    isBase64Encoded: frameType === 'binary',
    requestContext: baseContext('$default', 'MESSAGE', connectionId, stage ?? LOCAL_STAGE),
  };
}

export function buildCloseEvent(connectionId: string, stage?: Stage) {
  return {
    isBase64Encoded: false,
    requestContext: {
      ...baseContext('$disconnect', 'DISCONNECT', connectionId, stage ?? LOCAL_STAGE),
      disconnectStatusCode: 1000,
      disconnectReason: '',
    },
  };
}

/* ---------- HTTP API, payload format 2.0 (the publish API) ---------- */

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export function parseHttpApiEvent(event: unknown): HttpRequest {
  if (!isJsonObject(event)) throw new AwsEventError('event is not a JSON object');
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const raw = ownField(event, 'headers');
  if (isJsonObject(raw)) {
    for (const [name, value] of Object.entries(raw))
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  const context = ownField(event, 'requestContext');
  const http = isJsonObject(context) ? ownField(context, 'http') : undefined;
  let body = ownString(event, 'body') ?? '';
  if (ownField(event, 'isBase64Encoded') === true) body = Buffer.from(body, 'base64').toString('utf8');
  return {
    method: ((isJsonObject(http) ? ownString(http, 'method') : undefined) ?? 'GET').toUpperCase(),
    path: ownString(event, 'rawPath') ?? '/',
    headers,
    body,
  };
}

export function buildHttpApiEvent(req: HttpRequest, sourceIp = '127.0.0.1'): JsonObject {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  return {
    version: '2.0',
    routeKey: `${req.method} ${req.path}`,
    rawPath: req.path,
    rawQueryString: '',
    headers,
    body: req.body,
    isBase64Encoded: false,
    requestContext: {
      http: { method: req.method, path: req.path, protocol: 'HTTP/1.1', sourceIp, userAgent: '' },
      stage: '$default',
      timeEpoch: Date.now(),
    },
  };
}

export function httpApiResult(statusCode: number, payload: unknown): Required<ProxyResult> {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
  };
}

/* ---------- @connections (the push API the local gateway plays) ---------- */

export type ConnectionsCall =
  | { kind: 'send'; connectionId: string }
  | { kind: 'close'; connectionId: string }
  | { kind: 'info'; connectionId: string };

const CONNECTIONS_PATH = /^(?:\/[^/]+)?\/@connections\/([^/]+)$/;

/**
 * `POST|DELETE|GET {stage}/@connections/{id}`; the stage segment is optional (serverless-offline and the local
 * gateway have none). Undefined for anything else.
 */
export function parseConnectionsCall(method: string, pathname: string): ConnectionsCall | undefined {
  const match = CONNECTIONS_PATH.exec(pathname);
  if (!match) return undefined;
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  if (!CONNECTION_ID.test(connectionId)) return undefined;
  if (method === 'POST') return { kind: 'send', connectionId };
  if (method === 'DELETE') return { kind: 'close', connectionId };
  if (method === 'GET') return { kind: 'info', connectionId };
  return undefined;
}

/** The error body and type header of the management API (restJson1: `x-amzn-ErrorType` names the shape). */
export function connectionsError(
  type: 'GoneException' | 'ForbiddenException' | 'PayloadTooLargeException' | 'LimitExceededException',
  message: string,
): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'x-amzn-ErrorType': type, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message }),
  };
}

/** What an EventBridge schedule (serverless.yml `schedule: rate(...)`) passes to the sweep. */
export function buildScheduledEvent(now: Date, region = 'local'): JsonObject {
  return {
    version: '0',
    id: `local-${now.getTime()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    region,
    resources: [],
    detail: {},
  };
}
