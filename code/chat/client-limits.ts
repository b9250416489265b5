import type { ChatLimits } from '../config';
import { HISTORY_PAGE } from './history-paging';
import { MEMBERS_PAGE } from './members';
import { TYPING_INTERVAL_S } from './typing';
import { UNREAD_INTERVAL_S, UNREAD_ROOMS } from './unread';

/**
 * The limits a client should know before it sends, served as `limits` in the web page's config.json (by the local
 * stack, and written by the deploy from the functions' variables): a page can then refuse an over-long message
 * or nick as the server would, instead of learning it from an error.
 */
export interface ClientLimits {
  /** A message's text, in UTF-8 bytes. */
  maxMessageBytes: number;
  /** A nickname, in characters after normalization (code/chat/names.ts). */
  maxNickLength: number;
  /** The most messages one `history` or `join` answer holds. */
  historyPage: number;
  /** The most members one `members` answer holds. */
  membersPage: number;
  /** Frames per second per connection, and the burst, per warm function instance. */
  messagesPerSecond: number;
  messageBurst: number;
  /** The server passes on one `typing` notice per connection per this many seconds. */
  typingIntervalSeconds: number;
  /** The most rooms one `unread` request may name, and how often a connection may ask (after a burst of 2). */
  unreadRooms: number;
  unreadIntervalSeconds: number;
}

export function clientLimits(limits: ChatLimits): ClientLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes,
    maxNickLength: limits.maxNickLength,
    historyPage: HISTORY_PAGE,
    membersPage: MEMBERS_PAGE,
    messagesPerSecond: limits.ratePerSecond,
    messageBurst: limits.rateBurst,
    typingIntervalSeconds: TYPING_INTERVAL_S,
    unreadRooms: UNREAD_ROOMS,
    unreadIntervalSeconds: UNREAD_INTERVAL_S,
  };
}
