/**
 * The nick and room a connect token grants, read WITHOUT checking its signature (only the server can): for
 * display, and to join the token's room without first asking the server which room it is.
 */
export function readTokenClaims(token: string): { nick?: string; room?: string } {
  const payload = token.split('.')[0] ?? '';
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
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
