/**
 * The `limits` config.json carries for functions that set no limit variables: the defaults docs/protocol.md
 * states, written out here (not derived from the code under test) so that a changed default shows up in a test.
 */
export const DEFAULT_CLIENT_LIMITS = {
  maxMessageBytes: 4096,
  maxNickLength: 24,
  historyPage: 50,
  membersPage: 50,
  messagesPerSecond: 5,
  messageBurst: 20,
  typingIntervalSeconds: 3,
  unreadRooms: 8,
  unreadIntervalSeconds: 5,
};
