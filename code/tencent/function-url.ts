import { SIGNATURE_HEADER, verifyBody, type SignatureCheck } from '../util/signature';

/**
 * SCF function URLs (https://cloud.tencent.com/document/product/583/96099), the path our gateway uses to call the
 * functions. An event function behind a URL receives `{body, headers, httpMethod, path, queryString}` (lower-case
 * header names; no isBase64Encoded, no requestContext) and returns `{statusCode, headers, body}`, which becomes the
 * HTTP answer. The gateway posts the plain Tencent event as the body and signs it; these helpers unwrap it on the
 * function side and read a function's HTTP-shaped reply on the gateway side.
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export interface FunctionUrlEvent {
  body: string;
  headers: Record<string, string>;
  httpMethod: string;
  path: string;
  queryString: Record<string, string>;
}

/** The request a function URL turns into an event: what our fakes and tests build, per the doc's example. */
export function buildFunctionUrlEvent(req: {
  body: string;
  headers: Record<string, string>;
  method: string;
  path: string;
  query?: Record<string, string>;
  remoteAddress?: string;
}): FunctionUrlEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  if (req.remoteAddress) headers['x-scf-remote-addr'] = req.remoteAddress;
  return { body: req.body, headers, httpMethod: req.method, path: req.path, queryString: req.query ?? {} };
}

/** The signature header of a function-URL event, when the event has one. */
export function signedBody(event: unknown): { body: string; signature: string } | undefined {
  if (!isObject(event)) return undefined;
  const headers = own(event, 'headers');
  const body = own(event, 'body');
  if (!isObject(headers) || typeof body !== 'string') return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === SIGNATURE_HEADER && typeof value === 'string')
      return { body, signature: value };
  }
  return undefined;
}

export type Unwrapped =
  | { kind: 'plain'; event: unknown }
  | { kind: 'signed'; event: unknown }
  | { kind: 'refused'; reason: string };

/**
 * An event from the gateway through a function URL carries a signature: verify it, then the inner event is the
 * body. Any other event is passed on as it is (a direct invoke, the local stack, or a function URL call without
 * a signature, which the WebSocket handlers then reject as not being their event).
 */
export function unwrapFunctionUrlEvent(
  event: unknown,
  secret: string | undefined,
  nowMs?: number,
): Unwrapped {
  const signed = signedBody(event);
  if (!signed) return { kind: 'plain', event };
  if (secret === undefined) return { kind: 'refused', reason: 'GATEWAY_SECRET is not set on this function' };
  const check: SignatureCheck = verifyBody(secret, 'invoke', signed.body, signed.signature, nowMs);
  if (!check.ok) return { kind: 'refused', reason: `invocation signature ${check.reason}` };
  try {
    return { kind: 'signed', event: JSON.parse(signed.body) as unknown };
  } catch {
    return { kind: 'refused', reason: 'invocation body is not JSON' };
  }
}

export interface FunctionUrlReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function functionUrlReply(statusCode: number, payload: unknown): FunctionUrlReply {
  return { statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) };
}

export interface HttpReply {
  statusCode: number;
  contentType: string;
  body: string;
}

/** A function's API-Gateway-style HTTP reply (`{statusCode, headers, body}`), checked before it reaches a client. */
export function readHttpReply(reply: unknown): HttpReply | undefined {
  if (!isObject(reply)) return undefined;
  const status = own(reply, 'statusCode');
  const body = own(reply, 'body');
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return undefined;
  if (typeof body !== 'string') return undefined;
  const headers = own(reply, 'headers');
  let contentType = 'application/json; charset=utf-8';
  if (isObject(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'content-type' && typeof value === 'string') contentType = value;
    }
  }
  return { statusCode: status, contentType, body };
}
