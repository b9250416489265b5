import { decodeTextBase64Url } from '../../code/chat/base64url';

/**
 * The nick and room a connect token grants, read WITHOUT checking its signature (only the server can): for
 * display, and to join the token's room without first asking the server which room it is.
 */
export function readTokenClaims(token: string): { nick?: string; room?: string } {
  // The same strict codec as the server: what the server would refuse as malformed is not shown either.
  const json = decodeTextBase64Url(token.split('.')[0] ?? '');
  if (json === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { nick, room } = parsed as { nick?: unknown; room?: unknown };
    return {
      ...(typeof nick === 'string' && nick ? { nick } : {}),
      ...(typeof room === 'string' && room ? { room } : {}),
    };
  } catch {
    return {};
  }
}
