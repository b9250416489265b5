import { randomBytes } from 'crypto';
import { isUtf8 } from 'buffer';
import type { IncomingMessage, ServerResponse } from 'http';
import type { GatewayConfig } from './config';
import type { ClientChannel, FrameOutcome } from './connection';
import { BodyTooLarge, FORWARDED_HEADER, readBody, sendBody } from './http';
import { nodeOf, type Hub } from './hub';
import { shortId, type GatewayLog } from './log';
import type { Metrics } from './metrics';
import { postToPeer } from './peer';
import {
  describePush,
  EVENTS_PATH,
  formatEvent,
  HISTORY_PAGE,
  JOIN_REF,
  joinsItself,
  lastEventIdOf,
  parseSendBody,
  queryProtocols,
  RESUME_REF,
  RETRY_MS,
  SEND_PATH,
  signSendCredential,
  SSE_CREDENTIAL_SECONDS,
  verifySendCredential,
} from './sse-wire';

export { EVENTS_PATH, SEND_PATH } from './sse-wire';

/**
 * (Over 300 lines because the stream, its credential renewal and the send route share one table of streams and
 * their waiters; the wire formats without I/O are in sse-wire.ts.)
 *
 * Server-sent events: a second transport for the same connections. `GET /events?room=&nick=&token=` is admitted
 * exactly like a WebSocket handshake (the query becomes the Sec-WebSocket-Protocol entries register reads),
 * every push to the connection is written as an SSE event, and `POST /events/send` with the stream's credential
 * is a frame from that connection, through the hub's queue, rate and in-flight limits.
 *
 * The gateway knows two chat commands. A stream that does not join by itself (a bare reader: no `?join=self`)
 * gets `{"type":"join"}` as its first frame, with `since` on a reconnect with Last-Event-ID: the room's recent
 * messages (or what it missed), and the room hears it arrive. One that joins by itself only gets
 * `{"type":"history","since":<id>}` on such a reconnect, so it has what it missed before its own join answers.
 */

/* ---------------- the endpoint ---------------- */

interface Stream {
  id: string;
  res: ServerResponse;
  credentialExpiresAt: number;
  /** POSTs waiting for the first answer with their ref. */
  waiters: Map<string, Array<(envelope: string) => void>>;
  gone: Array<() => void>;
}

export interface SseEndpointOptions {
  hub: Hub;
  log: GatewayLog;
  metrics: Metrics;
}

function corsHeaders(config: GatewayConfig, req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  // No cookies are involved (the credential and token travel in the request), so any origin may read when
  // the operator lists none, as any origin may open a WebSocket then.
  if (!config.allowedOrigins) return { 'Access-Control-Allow-Origin': '*' };
  if (origin !== undefined && config.allowedOrigins.includes(origin))
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  return { Vary: 'Origin' };
}

function answer(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  sendBody(res, status, 'application/json; charset=utf-8', body, headers);
}

export function createSseEndpoint(options: SseEndpointOptions) {
  const { hub, log, metrics } = options;
  const { config } = hub;
  const streams = new Map<string, Stream>();

  const credentialEvent = (stream: Stream): string => {
    stream.credentialExpiresAt = Math.floor(Date.now() / 1000) + SSE_CREDENTIAL_SECONDS;
    const credential = signSendCredential(config.secret, stream.id, stream.credentialExpiresAt);
    return formatEvent(
      'credential',
      JSON.stringify({
        v: 1,
        type: 'credential',
        credential,
        expiresAt: stream.credentialExpiresAt * 1000,
        send: SEND_PATH,
      }),
    );
  };

  // One timer for all streams: a comment keeps proxies from timing the stream out, and a credential that is
  // past half its life is replaced before a client could be holding an expired one.
  const keepAlive = setInterval(() => {
    const renewBefore = Date.now() / 1000 + SSE_CREDENTIAL_SECONDS / 2 + config.limits.sseKeepAliveMs / 1000;
    for (const stream of streams.values()) {
      if (stream.res.writableEnded) continue;
      stream.res.write(
        stream.credentialExpiresAt < renewBefore ? credentialEvent(stream) : ': keep-alive\n\n',
      );
    }
  }, config.limits.sseKeepAliveMs);
  keepAlive.unref();

  function open(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    ip: string,
    first: { selfJoining: boolean; resumeFrom?: string },
    context: string | undefined,
  ) {
    const stream: Stream = { id, res, credentialExpiresAt: 0, waiters: new Map(), gone: [] };
    const channel: ClientChannel = {
      kind: 'sse',
      send(data, binary) {
        if (res.writableEnded) return;
        if (binary) return void res.write(formatEvent('binary', Buffer.from(data).toString('base64')));
        const text = typeof data === 'string' ? data : data.toString('utf8');
        const described = describePush(text);
        res.write(formatEvent(described.type, text, described.id));
        if (described.ref !== undefined) {
          const waiting = stream.waiters.get(described.ref);
          stream.waiters.delete(described.ref);
          waiting?.forEach((resolve) => resolve(text));
        }
      },
      bufferedBytes: () => res.writableLength,
      close(code, reason) {
        // EventSource reconnects when a stream ends; the event tells curl and our clients why it did.
        if (!res.writableEnded)
          res.end(formatEvent('close', JSON.stringify({ v: 1, type: 'close', code, reason })));
      },
      terminate: () => res.destroy(),
      // SSE has no pong; keep-alive comments come from the timer above.
      ping: () => undefined,
    };
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // nginx buffers proxied responses unless told not to; a buffered stream delivers nothing live.
      'X-Accel-Buffering': 'no',
      ...corsHeaders(config, req),
    });
    req.socket.setNoDelay(true);
    const { frame, closed } = hub.attachChannel(id, ip, channel, 'wschat.v1', context);
    streams.set(id, stream);
    res.on('close', () => {
      streams.delete(id);
      stream.gone.splice(0).forEach((wake) => wake());
      closed();
    });
    res.write(`retry: ${RETRY_MS}\n\n${credentialEvent(stream)}`);
    const { selfJoining, resumeFrom } = first;
    const since = resumeFrom === undefined ? {} : { since: resumeFrom };
    let command: Record<string, unknown> | undefined;
    if (!selfJoining) command = { type: 'join', ...since, ref: JOIN_REF };
    else if (resumeFrom !== undefined)
      command = { type: 'history', ...since, limit: HISTORY_PAGE, ref: RESUME_REF };
    if (command) frame(Buffer.from(JSON.stringify(command)), false);
  }

  return {
    /** GET /events: admitted like a WebSocket handshake, then held open. */
    stream(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
      req.socket.on('error', () => undefined);
      const refuse = (errMsg: string) => {
        metrics.inc('refusals_total', { reason: '400' });
        answer(res, 400, JSON.stringify({ errMsg }), corsHeaders(config, req));
      };
      const protocols = queryProtocols(query);
      if (typeof protocols === 'string') return refuse(protocols);
      const selfJoining = joinsItself(query);
      if (typeof selfJoining === 'string') return refuse(selfJoining);
      const resumeFrom = lastEventIdOf(req, query);
      hub.admit({
        req,
        socket: req.socket,
        path: EVENTS_PATH,
        protocols,
        originOptional: true,
        answer: (status, reason, headers) => {
          // A refused client often retries at once; a fresh socket each time keeps listeners from piling up.
          res.shouldKeepAlive = false;
          answer(res, status, JSON.stringify({ errMsg: reason }), {
            ...headers,
            ...corsHeaders(config, req),
          });
        },
        accept: (id, ip, _protocol, context) => open(req, res, id, ip, { selfJoining, resumeFrom }, context),
      });
    },

    /** OPTIONS /events/send: a cross-origin page's preflight for its JSON POST. */
    preflight(req: IncomingMessage, res: ServerResponse): void {
      res.writeHead(204, {
        ...corsHeaders(config, req),
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'authorization, content-type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
    },

    /** POST /events/send: a frame from the stream the credential names; the answer is the frame's answer. */
    async send(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const cors = corsHeaders(config, req);
      const fail = (status: number, error: string, message: string) => {
        metrics.inc('refusals_total', { reason: `send_${status}` });
        answer(res, status, JSON.stringify({ error, message }), cors);
      };
      const origin = req.headers.origin;
      if (config.allowedOrigins && origin !== undefined && !config.allowedOrigins.includes(origin))
        return fail(403, 'forbidden', 'origin not allowed');
      let body: Buffer;
      try {
        body = await readBody(req, config.limits.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          fail(413, 'too_large', `body over ${config.limits.maxBodyBytes} bytes`);
          return void req.socket.destroy();
        }
        return void req.socket.destroy();
      }
      const parsed = parseSendBody(req, body);
      if (typeof parsed === 'string') return fail(400, 'bad_request', parsed);
      const authorization = req.headers.authorization ?? '';
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      const credential = bearer ?? parsed.credential;
      if (credential === undefined) return fail(401, 'unauthorized', 'no send credential');
      const check = verifySendCredential(config.secret, credential);
      if (!check.ok) {
        log.warn('sse_send_refused', { reason: check.reason });
        return fail(401, 'unauthorized', `send credential ${check.reason}`);
      }
      const owner = nodeOf(check.connectionId);
      if (owner !== config.nodeId) {
        // The load balancer sent the POST to another node than the stream's: pass it to that node's private
        // listener, once (a forwarded request is never forwarded again).
        const peer = owner === undefined ? undefined : config.peers.get(owner);
        if (peer === undefined || req.headers[FORWARDED_HEADER] !== undefined)
          return fail(421, 'misdirected', 'this stream is held by another gateway node');
        const reply = await forwardSend(peer, req, body, config.limits.functionTimeoutMs + 5000);
        res.writeHead(reply.status, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(reply.body),
          'Cache-Control': 'no-store',
          ...cors,
        });
        return void res.end(reply.body);
      }
      const stream = streams.get(check.connectionId);
      if (!stream || hub.kindOf(check.connectionId) !== 'sse')
        return fail(410, 'gone', 'the stream is closed; open a new one');
      let ref: string | undefined;
      let data: Buffer = parsed.raw;
      if (parsed.command !== undefined) {
        const command = parsed.command;
        ref =
          typeof command.ref === 'string' && command.ref.length > 0 && command.ref.length <= 64
            ? command.ref
            : `sse-${randomBytes(6).toString('base64url')}`;
        data = Buffer.from(JSON.stringify({ ...command, ref }));
      }
      const result = await new Promise<{ envelope: string } | { outcome: FrameOutcome | 'flood' | 'closed' }>(
        (resolve) => {
          let done = false;
          const finish = (value: { envelope: string } | { outcome: FrameOutcome | 'flood' | 'closed' }) => {
            if (done) return;
            done = true;
            if (ref !== undefined) {
              const list = stream.waiters.get(ref)?.filter((w) => w !== onEnvelope);
              if (list && list.length > 0) stream.waiters.set(ref, list);
              else stream.waiters.delete(ref);
            }
            stream.gone = stream.gone.filter((w) => w !== onGone);
            resolve(value);
          };
          const onEnvelope = (envelope: string) => finish({ envelope });
          const onGone = () => finish({ outcome: 'closed' });
          if (ref !== undefined) stream.waiters.set(ref, [...(stream.waiters.get(ref) ?? []), onEnvelope]);
          stream.gone.push(onGone);
          const queued = hub.frame(check.connectionId, data, !isUtf8(data), (outcome) => finish({ outcome }));
          if (queued === 'gone') finish({ outcome: 'closed' });
          else if (queued === 'flood') finish({ outcome: 'flood' });
        },
      );
      if ('envelope' in result) return answer(res, 200, result.envelope, cors);
      switch (result.outcome) {
        case 'invoked':
          // The function answered nothing with this ref (or answered on the stream only): it was handled.
          return answer(res, 202, JSON.stringify({ accepted: true, ref }), cors);
        case 'failed':
          return fail(502, 'transport_failed', 'the transport function failed; the stream was closed');
        case 'flood':
          return fail(429, 'flood', 'too many frames waiting; the stream was closed');
        default:
          log.debug('sse_send_gone', { conn: shortId(check.connectionId) });
          return fail(410, 'gone', 'the stream closed before the frame ran');
      }
    },

    close(): void {
      clearInterval(keepAlive);
    },
  };
}

export type SseEndpoint = ReturnType<typeof createSseEndpoint>;

const FORWARDED_SEND_HEADERS = ['authorization', 'content-type'];

/** POST the send to the node that holds the stream (its push listener); its answer is ours. */
function forwardSend(peer: string, req: IncomingMessage, body: Buffer, timeoutMs: number) {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_SEND_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return postToPeer(`${peer}${SEND_PATH}`, body, headers, {
    timeoutMs,
    maxAnswerChars: 65536,
    failures: {
      down: '{"error":"gone","message":"the node holding the stream is down"}',
      unreachable: '{"error":"unavailable","message":"peer unreachable"}',
    },
  });
}
