import type { ChatMessage, ServerEnvelope } from '../../code/chat/protocol';

/**
 * Reads a server frame defensively: the client prints what it receives, so a field of the wrong type (another
 * server version, a proxy) must not crash it. Unknown envelope types are returned as undefined and ignored.
 */

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (o: Obj, k: string) => typeof o[k] === 'string';
const num = (o: Obj, k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
const optStr = (o: Obj, k: string) => o[k] === undefined || typeof o[k] === 'string';

export function isChatMessage(value: unknown): value is ChatMessage {
  return (
    isObj(value) &&
    str(value, 'id') &&
    str(value, 'room') &&
    str(value, 'from') &&
    str(value, 'tag') &&
    str(value, 'text') &&
    num(value, 'ts')
  );
}

export function parseServerFrame(data: string): ServerEnvelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObj(parsed) || parsed.v !== 1 || !optStr(parsed, 'ref')) return undefined;
  const e = parsed;
  switch (e.type) {
    case 'message':
      return isChatMessage(e) && num(e, 'online') ? (e as unknown as ServerEnvelope) : undefined;
    case 'ack':
      if (e.for === 'message')
        return str(e, 'id') && num(e, 'delivered') && num(e, 'failed') && num(e, 'online')
          ? (e as unknown as ServerEnvelope)
          : undefined;
      if (e.for === 'join' || e.for === 'nick')
        return str(e, 'room') && str(e, 'nick') && str(e, 'tag') && num(e, 'online')
          ? (e as unknown as ServerEnvelope)
          : undefined;
      return undefined;
    case 'presence':
      return (e.event === 'join' || e.event === 'leave' || e.event === 'nick') &&
        str(e, 'room') &&
        str(e, 'nick') &&
        str(e, 'tag') &&
        optStr(e, 'previous') &&
        num(e, 'online') &&
        num(e, 'ts')
        ? (e as unknown as ServerEnvelope)
        : undefined;
    case 'history':
      return str(e, 'room') && Array.isArray(e.messages) && e.messages.every(isChatMessage)
        ? (e as unknown as ServerEnvelope)
        : undefined;
    case 'pong':
      return e as unknown as ServerEnvelope;
    case 'error':
      return str(e, 'code') && str(e, 'message') ? (e as unknown as ServerEnvelope) : undefined;
    default:
      return undefined;
  }
}
