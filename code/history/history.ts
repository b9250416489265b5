import type { ChatMessage } from '../chat/protocol';

/** Recent messages of each room, so that a client that reconnects loses nothing. One implementation: COS. */
export interface HistoryStore {
  append(message: ChatMessage): Promise<void>;
  /**
   * Messages of the room newer than `since` (a message ID; all retained ones when absent), oldest first, at most
   * `limit`. `more` says that older matching messages were left out (fetch again with the last ID as `since`).
   */
  recent(
    room: string,
    options: { since?: string; limit: number },
  ): Promise<{ messages: ChatMessage[]; more: boolean }>;
  /** Deletes what is past the retention limits; returns how many messages were deleted. */
  trim(): Promise<number>;
}
