import { LeftRooms } from '../../../scripts/cli/left-rooms';
import { renderEvent } from '../../../scripts/cli/render';

describe('the rooms /unread asks about', () => {
  it('are the rooms left, newest first, with the last message seen in each, never the current one', () => {
    const rooms = new LeftRooms();
    expect(rooms.request('lobby', 8)).toEqual([]);
    rooms.left('lobby', 'id-lobby');
    rooms.left('dev', 'id-dev');
    rooms.left('empty', undefined); // nothing seen there: nothing to count from
    expect(rooms.request('ops', 8)).toEqual([
      { room: 'dev', since: 'id-dev' },
      { room: 'lobby', since: 'id-lobby' },
    ]);
    // Back in lobby: it is not asked about; leaving it again moves it to the front with the newer id.
    expect(rooms.request('lobby', 8)).toEqual([{ room: 'dev', since: 'id-dev' }]);
    rooms.left('lobby', 'id-lobby-2');
    expect(rooms.request('ops', 8)).toEqual([
      { room: 'lobby', since: 'id-lobby-2' },
      { room: 'dev', since: 'id-dev' },
    ]);
  });

  it('are at most as many as the server takes in one request, the most recent ones', () => {
    const rooms = new LeftRooms();
    for (let i = 1; i <= 10; i += 1) rooms.left(`r${i}`, `id${i}`);
    expect(rooms.request(undefined, 8).map((r) => r.room)).toEqual([
      'r10',
      'r9',
      'r8',
      'r7',
      'r6',
      'r5',
      'r4',
      'r3',
    ]);
  });
});

describe('the unread line', () => {
  it('gives each room its count, with + where the server stopped counting', () => {
    const now = Date.UTC(2026, 11, 7, 9, 5, 3);
    const rooms = new Map([
      ['dev', { count: 3, capped: false }],
      ['ops', { count: 50, capped: true }],
    ]);
    const { out, err } = renderEvent({ type: 'unread', rooms }, now);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d \* unread: dev 3, ops 50\+$/);
  });
});
