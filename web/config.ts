/**
 * Where to connect: ./config.json (written at deploy time, served by the local stack), then a `?ws=` override
 * that config.json allows (see chooseWsUrl).
 */

export interface ClientConfig {
  wsUrl: string;
  heartbeatSeconds: number;
  authRequired: boolean;
  /** The server's message limit in UTF-8 bytes (`limits.maxMessageBytes`), else the server's default. */
  maxMessageBytes: number;
  /** The server's limits, when config.json states them (code/chat/client-limits.ts; docs/protocol.md). */
  limits: PageLimits;
}

/** Each limit only when config.json gives it as a positive whole number. */
export type PageLimits = Partial<
  Record<
    | 'maxMessageBytes'
    | 'maxNickLength'
    | 'historyPage'
    | 'membersPage'
    | 'messagesPerSecond'
    | 'messageBurst'
    | 'typingIntervalSeconds'
    | 'unreadRooms'
    | 'unreadIntervalSeconds',
    number
  >
>;

const LIMIT_NAMES = [
  'maxMessageBytes',
  'maxNickLength',
  'historyPage',
  'membersPage',
  'messagesPerSecond',
  'messageBurst',
  'typingIntervalSeconds',
  'unreadRooms',
  'unreadIntervalSeconds',
] as const;

export function readLimits(value: unknown): PageLimits {
  const limits: PageLimits = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return limits;
  for (const name of LIMIT_NAMES) {
    const limit = Object.prototype.hasOwnProperty.call(value, name)
      ? (value as Record<string, unknown>)[name]
      : undefined;
    if (typeof limit === 'number' && Number.isInteger(limit) && limit > 0) limits[name] = limit;
  }
  return limits;
}

/** The server's default MAX_MESSAGE_BYTES, for a config.json that does not say. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4096;

export interface PageParams {
  ws?: string;
  room?: string;
  token?: string;
}

export const DEFAULT_HEARTBEAT_SECONDS = 240;

export function readParams(search: string): PageParams {
  const params = new URLSearchParams(search);
  const value = (name: string) => params.get(name)?.trim() || undefined;
  return { ws: value('ws'), room: value('room'), token: value('token') };
}

/** Accepts ws(s) URLs, and http(s) or relative ones turned into their WebSocket form. */
export function toWebSocketUrl(raw: string, base: string): string | undefined {
  try {
    const url = new URL(raw, base);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
    return url.protocol === 'ws:' || url.protocol === 'wss:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gateway's server-sent events URL for a WebSocket URL: same host, http(s), `/events` in place of a final
 * `/ws` (our gateway's layout). Undefined for URLs that are not our gateway's shape.
 */
export function eventsUrlFor(wsUrl: string): string | undefined {
  try {
    const url = new URL(wsUrl);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return undefined;
    if (!/\/ws\/?$/.test(url.pathname)) return undefined;
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = url.pathname.replace(/\/ws\/?$/, '/events');
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return undefined;
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `ws://host:port` or `wss://host:port` of a WebSocket URL; undefined for anything else. */
export function wsOrigin(raw: string, base?: string): string | undefined {
  const url = toWebSocketUrl(raw, base ?? raw);
  return url === undefined ? undefined : new URL(url).origin.replace(/^http/, 'ws');
}

/**
 * Where the page may connect: the address config.json names, and a `?ws=` override only if it points at the
 * page's own origin, at config.json's own server, or at an origin config.json lists in `allowedWsOrigins`. A link
 * to the trusted page must not be able to send the user's token (and a join) to a server of the link's choosing.
 */
export function chooseWsUrl(options: {
  pageUrl: string;
  override?: string;
  configured?: string;
  allowedWsOrigins?: readonly string[];
}): { ok: true; wsUrl: string } | { ok: false; reason: string } {
  const { pageUrl, override, configured } = options;
  if (override === undefined) {
    return configured === undefined
      ? { ok: false, reason: 'config.json does not name a WebSocket URL (wsUrl).' }
      : { ok: true, wsUrl: configured };
  }
  const wanted = toWebSocketUrl(override, pageUrl);
  if (wanted === undefined)
    return { ok: false, reason: `The ?ws= address "${override}" is not a WebSocket URL.` };
  const page = new URL(pageUrl);
  const allowed = new Set<string>();
  if (page.protocol === 'http:' || page.protocol === 'https:')
    allowed.add(page.origin.replace(/^http/, 'ws'));
  if (configured !== undefined) allowed.add(wsOrigin(configured)!);
  for (const entry of options.allowedWsOrigins ?? []) {
    // Only absolute ws:// or wss:// origins count; a relative or odd entry must not widen the list.
    if (/^wss?:\/\//i.test(entry)) {
      const origin = wsOrigin(entry);
      if (origin !== undefined) allowed.add(origin);
    }
  }
  const origin = new URL(wanted).origin.replace(/^http/, 'ws');
  if (!allowed.has(origin)) {
    return {
      ok: false,
      reason: `This page does not connect to ${origin}: only to its own server or to servers its config.json allows.`,
    };
  }
  return { ok: true, wsUrl: wanted };
}

export async function loadConfig(
  params: PageParams,
  base: string,
  fetchJson: (url: string) => Promise<unknown> = defaultFetchJson,
): Promise<ClientConfig> {
  let body: Record<string, unknown> = {};
  try {
    const parsed = await fetchJson(new URL('config.json', base).toString());
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch (error) {
    // With a same-origin ?ws= the page can run without config.json; otherwise it cannot.
    if (params.ws === undefined) {
      throw new ConfigError(
        `Could not load config.json (${error instanceof Error ? error.message : 'error'}).`,
      );
    }
  }
  const allowedWsOrigins = Array.isArray(body.allowedWsOrigins)
    ? body.allowedWsOrigins.filter((x): x is string => typeof x === 'string')
    : [];
  const choice = chooseWsUrl({
    pageUrl: base,
    override: params.ws,
    configured: typeof body.wsUrl === 'string' ? toWebSocketUrl(body.wsUrl, base) : undefined,
    allowedWsOrigins,
  });
  if (!choice.ok) throw new ConfigError(choice.reason);
  const heartbeat = typeof body.heartbeatSeconds === 'number' ? body.heartbeatSeconds : NaN;
  const limits = readLimits(body.limits);
  return {
    wsUrl: choice.wsUrl,
    heartbeatSeconds: Number.isFinite(heartbeat)
      ? Math.min(3600, Math.max(1, heartbeat))
      : DEFAULT_HEARTBEAT_SECONDS,
    authRequired: body.authRequired === true,
    limits,
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  };
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()) as unknown;
}
