import { GatewayEventError, httpResponse, parseHttpEvent, type HttpResponse } from '../tencent/gateway';
import { errorMessage } from '../chat/log';
import { ProtocolError } from '../chat/protocol';
import { issueToken, secretsEqual } from '../chat/token';
import { normalizeNick, normalizeRoom } from '../chat/rules';
import { containerFromEnv, type Container } from './container';
import { scfHandler } from './shell';

const MAX_BODY = 64 * 1024;
const DEFAULT_TOKEN_TTL_SECONDS = 3600;

function field(body: Record<string, unknown>, name: string): string | undefined {
  const value = Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * SCF function behind an API Gateway HTTP endpoint, for backends:
 *   POST /publish {room, text, from?}  → broadcasts into the room (the SAE channel `send_message`);
 *   POST /token   {nick, room, ttlSeconds?} → a signed connect token, when AUTH_SECRET is set.
 * Both require `Authorization: Bearer <PUBLISH_TOKEN>`.
 */
export function createPublishHandler(getContainer: () => Container) {
  return scfHandler(getContainer, {
    name: 'publish',
    run: (event, container) => publish(event, container),
    misconfigured: () =>
      httpResponse(503, { error: 'misconfigured', message: 'the server is misconfigured' }),
  });
}

async function publish(event: unknown, { config, chat, log }: Container): Promise<HttpResponse> {
  try {
    const request = parseHttpEvent(event);

    if (request.method !== 'POST')
      return httpResponse(405, { error: 'method_not_allowed', message: 'use POST' });
    if (config.publishToken === undefined) {
      return httpResponse(503, {
        error: 'publish_disabled',
        message: 'set PUBLISH_TOKEN to enable this API',
      });
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!secretsEqual(bearer, config.publishToken)) {
      return httpResponse(401, { error: 'unauthorized', message: 'missing or wrong bearer token' });
    }
    if (request.body.length > MAX_BODY)
      return httpResponse(413, { error: 'too_large', message: 'body too large' });
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(request.body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return httpResponse(400, { error: 'bad_request', message: 'body must be a JSON object' });
    }
    if (request.path.endsWith('/token')) {
      if (config.authSecret === undefined) {
        return httpResponse(503, { error: 'auth_disabled', message: 'set AUTH_SECRET to issue tokens' });
      }
      // Validated here, so a backend never holds a token that register would refuse.
      const nick = normalizeNick(field(body, 'nick') ?? '', config.limits.maxNickLength);
      const room = normalizeRoom(field(body, 'room') ?? config.defaultRoom);
      // A JSON integer only: `true` or "60" are a client's mistake, not a TTL.
      const ttl = Object.prototype.hasOwnProperty.call(body, 'ttlSeconds')
        ? body.ttlSeconds
        : DEFAULT_TOKEN_TTL_SECONDS;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 86400) {
        return httpResponse(400, {
          error: 'bad_request',
          message: '"ttlSeconds" must be an integer from 1 to 604800',
        });
      }
      return httpResponse(200, { token: issueToken(config.authSecret, { nick, room, ttlSeconds: ttl }) });
    }
    if (!request.path.endsWith('/publish'))
      return httpResponse(404, { error: 'not_found', message: request.path });
    const result = await chat.publish({
      room: field(body, 'room') ?? config.defaultRoom,
      text: field(body, 'text') ?? '',
      from: field(body, 'from'),
    });
    return httpResponse(200, result);
  } catch (error) {
    if (error instanceof ProtocolError) {
      return httpResponse(400, { error: error.code, message: error.message });
    }
    if (error instanceof GatewayEventError) {
      return httpResponse(400, { error: 'bad_event', message: error.message });
    }
    log.error('publish_failed', { error: errorMessage(error) });
    return httpResponse(500, { error: 'internal', message: 'could not publish; try again' });
  }
}

export const main_handler = createPublishHandler(containerFromEnv);
