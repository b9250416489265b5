import { createMessageIdSource, isMessageId, messageIdTimePrefix } from '../../../code/chat/message-id';

describe('message IDs', () => {
  const source = () => createMessageIdSource(() => 'abcd0123');

  it('start with the time prefix, so IDs and prefixes sort in time order', () => {
    const ids = source();
    const first = ids.next(1_800_000_000_000);
    const later = ids.next(1_800_000_000_001);
    expect(first.startsWith(messageIdTimePrefix(1_800_000_000_000))).toBe(true);
    expect(first < later).toBe(true);
    expect(messageIdTimePrefix(1_800_000_000_000) < first).toBe(true);
    expect(isMessageId(first)).toBe(true);
  });

  it('count up within one millisecond, per source', () => {
    const ids = source();
    const [a, b, c] = [ids.next(5), ids.next(5), ids.next(5)];
    expect(a! < b! && b! < c!).toBe(true);
    expect(source().next(5)).toBe(a);
  });

  it.each(['../x', '', 'ABC', 'x'.repeat(41)])('refuse %j as a cursor', (cursor) => {
    expect(isMessageId(cursor)).toBe(false);
  });
});
