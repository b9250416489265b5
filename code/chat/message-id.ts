/**
 * Message IDs: time-ordered and unique. Base36 milliseconds (9 characters, fixed width), a sequence for
 * messages of the same millisecond (3 characters), then a random suffix so that IDs made by different
 * containers never collide. Because the time leads, IDs sort by time as strings: history cursors and the web
 * client's ordering rely on that.
 *
 * Browser-safe (no Node imports): the web client orders its own pending messages with `messageIdTimePrefix`.
 */

const TIME_WIDTH = 9;
const SEQUENCE_WIDTH = 3;

/** What a history cursor (`since`) may look like: a message ID, or a time prefix of one. */
export const MESSAGE_ID_PATTERN = /^[0-9a-z]{1,40}$/;

export function isMessageId(value: string): boolean {
  return MESSAGE_ID_PATTERN.test(value);
}

/** The first characters of every ID made at `ms`: IDs and prefixes compare in time order. */
export function messageIdTimePrefix(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(TIME_WIDTH, '0');
}

export interface MessageIdSource {
  next(now: number): string;
}

/**
 * One source per chat service: its sequence is its own, so two services in one process (tests, the local
 * stack) do not share state. `randomSuffix` returns lowercase hex, e.g. 4 random bytes.
 */
export function createMessageIdSource(randomSuffix: () => string): MessageIdSource {
  let lastTime = -1;
  let sequence = 0;
  return {
    next(now) {
      sequence = now === lastTime ? sequence + 1 : 0;
      lastTime = now;
      return messageIdTimePrefix(now) + sequence.toString(36).padStart(SEQUENCE_WIDTH, '0') + randomSuffix();
    },
  };
}
