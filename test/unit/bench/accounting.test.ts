import { tallyDeliveries, type MessageRecord, type SessionRecord } from '../../../scripts/load/accounting';

const session = (
  id: number,
  openAt: number,
  endAt: number | undefined,
  received: number[] = [],
  room = 'r',
): SessionRecord => ({
  id,
  room,
  openAt,
  endAt,
  received: new Map(received.map((seq) => [seq, 1])),
});

const message = (seq: number, from: number, sentAt: number, room = 'r'): MessageRecord => ({
  seq,
  room,
  from,
  sentAt,
});

describe('tallyDeliveries', () => {
  it('counts a miss by a member present from before the send to the end as lost', () => {
    const sessions = [session(0, 0, undefined), session(1, 0, undefined), session(2, 0, undefined, [0])];

    const tally = tallyDeliveries(sessions, [message(0, 0, 100)], 5000);

    expect(tally).toMatchObject({ sent: 1, expected: 2, lost: 1, delivered: 1, duplicates: 0 });
    expect(tally.examples).toEqual([{ seq: 0, session: 1, churned: false }]);
  });

  it('owes nothing to the sender, to other rooms, or to members who joined after the send', () => {
    const sessions = [
      session(0, 0, undefined),
      session(1, 200, undefined),
      session(2, 0, undefined, [], 'other'),
    ];

    const tally = tallyDeliveries(sessions, [message(0, 0, 100)], 5000);

    expect(tally).toMatchObject({ expected: 0, lost: 0, expectedChurned: 0 });
  });

  it('holds members who left to messages sent at least the grace period before they left', () => {
    const sessions = [
      session(0, 0, undefined),
      session(1, 0, 10_000, [0]),
      session(2, 0, 10_000),
      session(3, 0, 5_999),
    ];

    const tally = tallyDeliveries(sessions, [message(0, 0, 1000)], 5000);

    // Session 3 left less than 5 s after the send: not owed. Sessions 1 and 2 are; 2 missed it.
    expect(tally).toMatchObject({ expected: 0, expectedChurned: 2, lostChurned: 1, lost: 0 });
  });

  it('counts extra copies as duplicates and each (message, member) once as delivered', () => {
    const twice = session(1, 0, undefined);
    twice.received.set(0, 3);

    const tally = tallyDeliveries([session(0, 0, undefined), twice], [message(0, 0, 100)], 5000);

    expect(tally).toMatchObject({ delivered: 1, duplicates: 2, lost: 0, expected: 1 });
  });
});
