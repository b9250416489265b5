import type { ChatMessage } from '../chat/protocol';

/** Recent messages of each room, so that a client that reconnects loses nothing. One implementation: COS. */
export interface HistoryStore {
  append(message: ChatMessage): Promise<void>;
  /**
   * Without `since`: the room's latest `limit` messages; `more` says older ones are retained too.
   * With `since` (a message ID): the first `limit` messages after it, so a client catching up pages forward;
   * `more` says newer ones remain (ask again with the last ID as `since`). Oldest first in both cases.
   */
  recent(
    room: string,
    options: { since?: string; limit: number },
  ): Promise<{ messages: ChatMessage[]; more: boolean }>;
  /** Deletes what is past the retention limits; returns how many messages were deleted. */
  trim(): Promise<number>;
}
