import { decodeTextBase64Url } from '../chat/base64url';

/**
 * The gateway's SSE query for a client's connect options: the same entries a WebSocket offers as sub-protocols
 * (connectProtocols), so the page and the terminal client open a stream exactly as they open a socket. Both
 * send their own join, with their cursor, so the gateway is told not to join the stream for them.
 */
export function sseQuery(protocols: readonly string[]): URLSearchParams {
  const query = new URLSearchParams({ join: 'self' });
  for (const entry of protocols) {
    const dot = entry.indexOf('.');
    const [name, value] = [entry.slice(0, dot), entry.slice(dot + 1)];
    if (name === 'room' || name === 'token' || name === 'key') query.set(name, value);
    else if (name === 'nick') {
      // The gateway base64url-encodes the nick again for register: it travels plain here.
      const nick = decodeTextBase64Url(value);
      if (nick !== undefined) query.set('nick', nick);
    }
  }
  return query;
}
