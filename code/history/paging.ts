import type { UnreadCount } from './history';

/**
 * Which messages a history request answers with, given what a room keeps: one algorithm for every HistoryStore
 * (the COS one, and the memory fake in tests), so that they cannot drift.
 */

/** A history request: the latest page, the page after `since` (catching up) or before `before` (older). */
export interface PageRequest {
  since?: string;
  before?: string;
  limit: number;
}

export interface PageChoice<T> {
  /** Newest first. */
  chosen: T[];
  more: boolean;
  gap: boolean;
}

/**
 * `retained`: the room's kept messages (at most the retention limit, none past the age limit), in any order.
 * `dropping`: whether retention may have dropped messages of this room that the cursor did not see (see gap).
 *
 * - latest: the newest `limit`; `more` when older ones are kept.
 * - `since`: the oldest `limit` of those after the cursor; `more` when newer ones remain.
 * - `before`: the newest `limit` of those older than the cursor; `more` when older ones remain.
 *
 * `gap` (only with `since`): retention is dropping messages of this room (`dropping`), and the cursor is not a kept
 * message and is older than every kept one (or nothing is kept): messages between the cursor and the oldest kept
 * one may have been dropped. A room below its limit with nothing aged out has dropped nothing: no gap.
 */
export function choosePage<T extends { id: string }>(
  retained: T[],
  request: PageRequest,
  dropping: boolean,
): PageChoice<T> {
  // Message IDs start with the time, so they sort by time as strings; sorting here makes messages written in the
  // same millisecond by different containers (listed in key order, not id order) come out in one order.
  const newestFirst = [...retained].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const { since, before, limit } = request;
  if (since !== undefined) {
    const after = newestFirst.filter((m) => m.id > since);
    const oldestKept = newestFirst[newestFirst.length - 1];
    const gap = dropping && (oldestKept === undefined || since < oldestKept.id);
    return { chosen: after.slice(-limit), more: after.length > limit, gap };
  }
  const older = before === undefined ? newestFirst : newestFirst.filter((m) => m.id < before);
  return { chosen: older.slice(0, limit), more: older.length > limit, gap: false };
}

/**
 * Whether retention may have dropped messages after `cursor` in a room: it keeps as many as its limit (older
 * ones went), it listed some past the age limit, or the cursor itself is past the age limit (what followed it
 * may have aged out and been trimmed).
 */
export function retentionDropping(options: {
  keptCount: number;
  limit: number;
  agedOut: boolean;
  cursor: string | undefined;
  oldestAllowedMs: number;
}): boolean {
  const { keptCount, limit, agedOut, cursor, oldestAllowedMs } = options;
  if (keptCount >= limit || agedOut) return true;
  // A message id (or a cursor made from a time) starts with its time: 9 base36 digits of ms (chat/message-id.ts).
  return cursor !== undefined && parseInt(cursor.slice(0, 9).padEnd(9, '0'), 36) < oldestAllowedMs;
}

/**
 * How many of `kept` (a room's kept messages, any order) come after `since`, or all of them without it, counting
 * at most `cap`: `capped` when more remain. The same choice as a `since` page, so a count never disagrees with
 * what a catch-up would show.
 */
export function countAfter(kept: Array<{ id: string }>, since: string | undefined, cap: number): UnreadCount {
  const choice = choosePage(kept, { since, limit: cap }, false);
  return { count: choice.chosen.length, capped: choice.more };
}
