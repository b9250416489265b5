/**
 * Who should have received which message, decided from what the clients saw. Pure, so it is unit-tested.
 *
 * A recipient session is *present throughout* a message when it was open (its `open` event had fired) before
 * the message was sent, and it was still open at the end of the run. Such a session must receive the message
 * exactly once; a miss is `lost`. Sessions that ended during the run (left cleanly or were dropped) are held to
 * a weaker rule: a message sent at least `graceMs` before the session ended must have reached it
 * (`lostChurned`); closer to the end it may legitimately not.
 */

export interface SessionRecord {
  id: number;
  room: string;
  /** When the client's socket opened, ms on the worker's clock. */
  openAt: number;
  /** When it closed or began to close; undefined if open at the end. */
  endAt?: number;
  /** Message sequence numbers received, with how many times each. */
  received: Map<number, number>;
}

export interface MessageRecord {
  seq: number;
  room: string;
  /** The sending session. */
  from: number;
  sentAt: number;
}

export interface DeliveryTally {
  sent: number;
  /** Unique (message, session) deliveries, expected or not. */
  delivered: number;
  /** Deliveries owed to sessions present throughout. */
  expected: number;
  lost: number;
  /** Deliveries owed to sessions that ended during the run, at least graceMs after the message. */
  expectedChurned: number;
  lostChurned: number;
  /** Extra copies of a message already received by the same session. */
  duplicates: number;
  /** A few lost deliveries, for diagnosis. */
  examples: Array<{ seq: number; session: number; churned: boolean }>;
}

export function tallyDeliveries(
  sessions: readonly SessionRecord[],
  messages: readonly MessageRecord[],
  graceMs: number,
): DeliveryTally {
  const tally: DeliveryTally = {
    sent: messages.length,
    delivered: 0,
    expected: 0,
    lost: 0,
    expectedChurned: 0,
    lostChurned: 0,
    duplicates: 0,
    examples: [],
  };
  const byRoom = new Map<string, SessionRecord[]>();
  for (const session of sessions) {
    const members = byRoom.get(session.room) ?? [];
    members.push(session);
    byRoom.set(session.room, members);
    for (const count of session.received.values()) {
      tally.delivered += 1;
      tally.duplicates += count - 1;
    }
  }
  for (const message of messages) {
    for (const session of byRoom.get(message.room) ?? []) {
      if (session.id === message.from || session.openAt >= message.sentAt) continue;
      const got = session.received.has(message.seq);
      if (session.endAt === undefined) {
        tally.expected += 1;
        if (!got) tally.lost += 1;
      } else if (session.endAt >= message.sentAt + graceMs) {
        tally.expectedChurned += 1;
        if (!got) tally.lostChurned += 1;
      } else continue;
      if (!got && tally.examples.length < 10)
        tally.examples.push({ seq: message.seq, session: session.id, churned: session.endAt !== undefined });
    }
  }
  return tally;
}
