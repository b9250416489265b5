import type { ChatConfig } from '../config';
import { errorMessage } from '../chat/log';
import { ProtocolError } from '../chat/protocol';
import { issueToken, secretsEqual } from '../chat/token';
import { normalizeNick, normalizeRoom } from '../chat/rules';
import { DEFAULT_TOKEN_TTL_SECONDS, isTokenTtl, MAX_TOKEN_TTL_SECONDS } from '../chat/token-ttl';
import { ownField, ownString, parseJsonObject } from '../util/json';
import type { Container } from './container';

const MAX_BODY = 64 * 1024;

/** An HTTP request to the publish API, already read from the platform's event. */
export interface PublishApiRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export interface PublishApiAnswer {
  status: number;
  payload: unknown;
}

const answer = (status: number, payload: unknown): PublishApiAnswer => ({ status, payload });

/**
 * The publish API, for backends, on either platform (Tencent: code/functions/publish.ts, AWS:
 * code/functions/aws/publish.ts map their HTTP events to and from it):
 *   POST /publish {room, text, from?, cid?}  → broadcasts into the room (the SAE channel `send_message`);
 *   POST /token   {nick, room, ttlSeconds?} → a signed connect token, when AUTH_SECRET is set.
 * Both require `Authorization: Bearer <PUBLISH_TOKEN>`.
 */
export async function answerPublishApi(
  request: PublishApiRequest,
  { config, chat, log }: Container<ChatConfig>,
): Promise<PublishApiAnswer> {
  try {
    if (request.method !== 'POST') return answer(405, { error: 'method_not_allowed', message: 'use POST' });
    if (config.publishToken === undefined) {
      return answer(503, { error: 'publish_disabled', message: 'set PUBLISH_TOKEN to enable this API' });
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!secretsEqual(bearer, config.publishToken)) {
      return answer(401, { error: 'unauthorized', message: 'missing or wrong bearer token' });
    }
    if (request.body.length > MAX_BODY) return answer(413, { error: 'too_large', message: 'body too large' });
    const body = parseJsonObject(request.body);
    if (body === undefined) {
      return answer(400, { error: 'bad_request', message: 'body must be a JSON object' });
    }
    if (request.path.endsWith('/token')) {
      if (config.authSecret === undefined) {
        return answer(503, { error: 'auth_disabled', message: 'set AUTH_SECRET to issue tokens' });
      }
      // Validated here, so a backend never holds a token that register would refuse.
      const nick = normalizeNick(ownString(body, 'nick') ?? '', config.limits.maxNickLength);
      const room = normalizeRoom(ownString(body, 'room') ?? config.defaultRoom);
      // A JSON integer only: `true` or "60" are a client's mistake, not a TTL.
      const given = ownField(body, 'ttlSeconds');
      const ttl = given === undefined ? DEFAULT_TOKEN_TTL_SECONDS : given;
      if (typeof ttl !== 'number' || !isTokenTtl(ttl)) {
        return answer(400, {
          error: 'bad_request',
          message: `"ttlSeconds" must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}`,
        });
      }
      return answer(200, { token: issueToken(config.authSecret, { nick, room, ttlSeconds: ttl }) });
    }
    if (!request.path.endsWith('/publish')) return answer(404, { error: 'not_found', message: request.path });
    // A retried publish with the same cid is stored and delivered once (see idempotency in docs/protocol.md).
    const cid = ownField(body, 'cid');
    if (cid !== undefined && typeof cid !== 'string')
      throw new ProtocolError('bad_frame', '"cid" must be a string');
    const result = await chat.publish({
      room: ownString(body, 'room') ?? config.defaultRoom,
      text: ownString(body, 'text') ?? '',
      from: ownString(body, 'from'),
      cid,
    });
    return answer(200, result);
  } catch (error) {
    if (error instanceof ProtocolError) return answer(400, { error: error.code, message: error.message });
    log.error('publish_failed', { error: errorMessage(error) });
    return answer(500, { error: 'internal', message: 'could not publish; try again' });
  }
}

export const MISCONFIGURED_ANSWER = answer(503, {
  error: 'misconfigured',
  message: 'the server is misconfigured',
});
