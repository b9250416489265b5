import type { ChatMessage } from '../chat/protocol';
import type { PageRequest } from './paging';

export type { PageRequest } from './paging';

export interface HistoryPage {
  /** Oldest first. */
  messages: ChatMessage[];
  /** Latest and `before`: older messages are kept too. `since`: newer ones remain (ask again from the last). */
  more: boolean;
  /**
   * Only answering `since`: the cursor is not a kept message and is older than every kept one (or the room keeps
   * none), so messages after it may have been dropped by retention.
   */
  gap?: true;
}

/** Recent messages of each room, so that a client that reconnects loses nothing. One implementation: COS. */
export interface HistoryStore {
  append(message: ChatMessage): Promise<void>;
  /** A page of the room's kept messages; see `choosePage` in paging.ts for which. */
  recent(room: string, request: PageRequest): Promise<HistoryPage>;
  /**
   * How many kept messages of the room came after `since` (every kept one without it), counting at most `cap`;
   * `capped` when there are more. Names only: no message is read.
   */
  countAfter(room: string, since: string | undefined, cap: number): Promise<UnreadCount>;
  /** Whether history holds this message (by room, time and id). */
  has(message: ChatMessage): Promise<boolean>;
  /**
   * Claims a client message id (`message.cid`) for `message`, once per room: undefined when this call claimed it,
   * otherwise the message that claimed it first. Claims expire with the history age limit.
   */
  claim(message: ChatMessage & { cid: string }): Promise<ClaimedMessage | undefined>;
  /** Marks a claim whose message may not have reached the room, so that a retry delivers it (best effort). */
  markUndelivered(message: ChatMessage & { cid: string }): Promise<void>;
  /** Deletes what is past the retention limits (and expired claims); returns how many messages were deleted. */
  trim(): Promise<number>;
}

export interface UnreadCount {
  count: number;
  /** The count stopped at the cap: that many or more. */
  capped: boolean;
}

export interface ClaimedMessage {
  message: ChatMessage;
  /** The first attempt could not read the room: its message was not pushed. */
  undelivered: boolean;
}
