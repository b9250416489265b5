import type { LogFields, Logger } from '../util/log';
import type { LogLevel } from './config';

/**
 * One readable line per event: `2026-12-02T17:40:00.123Z info  connect conn=ab12+Qx9f… ip=203.0.113.9`.
 * Connection IDs are shortened (enough to follow one connection in a log, not enough to push to it). Values are
 * quoted when they hold spaces; nothing a client sent is logged beyond sizes and reasons we wrote ourselves.
 */

/** The functions' Logger (code/util/log: JSON lines for CLS) with a debug level, written for people to read. */
export interface GatewayLog extends Logger {
  debug(event: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function shortId(connectionId: string): string {
  return connectionId.length <= 12 ? connectionId : `${connectionId.slice(0, 12)}…`;
}

function format(value: string | number | boolean): string {
  const text = String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function createGatewayLog(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  clock: () => Date = () => new Date(),
): GatewayLog {
  const emit =
    (at: LogLevel) =>
    (event: string, fields: LogFields = {}): void => {
      if (RANK[at] < RANK[level]) return;
      const details = Object.entries(fields)
        .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
        .map(([key, value]) => `${key}=${format(value)}`)
        .join(' ');
      write(`${clock().toISOString()} ${at.padEnd(5)} ${event}${details ? ` ${details}` : ''}`);
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    enabled: (at) => RANK[at] >= RANK[level],
  };
}
