/** Where to connect: ./config.json (written at deploy time, served by the local stack), then URL overrides. */

export interface ClientConfig {
  wsUrl: string;
  heartbeatSeconds: number;
  authRequired: boolean;
}

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

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export async function loadConfig(params: PageParams, base: string): Promise<ClientConfig> {
  const override = params.ws === undefined ? undefined : toWebSocketUrl(params.ws, base);
  if (params.ws !== undefined && override === undefined) {
    throw new ConfigError(`The ?ws= address "${params.ws}" is not a WebSocket URL.`);
  }
  let body: Record<string, unknown> = {};
  try {
    const response = await fetch(new URL('config.json', base).toString(), { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const parsed: unknown = await response.json();
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch (error) {
    // With ?ws= the page can run without config.json (e.g. opened from another host); otherwise it cannot.
    if (override === undefined) {
      throw new ConfigError(
        `Could not load config.json (${error instanceof Error ? error.message : 'error'}).`,
      );
    }
  }
  const configured = typeof body.wsUrl === 'string' ? toWebSocketUrl(body.wsUrl, base) : undefined;
  const wsUrl = override ?? configured;
  if (wsUrl === undefined) throw new ConfigError('config.json does not name a WebSocket URL (wsUrl).');
  const heartbeat = typeof body.heartbeatSeconds === 'number' ? body.heartbeatSeconds : NaN;
  return {
    wsUrl,
    heartbeatSeconds: Number.isFinite(heartbeat)
      ? Math.min(3600, Math.max(1, heartbeat))
      : DEFAULT_HEARTBEAT_SECONDS,
    authRequired: body.authRequired === true,
  };
}
