import { badgeText, RecentRooms, ROOMS_KEY, SEEN_KEY } from '../../../code/client/recent-rooms';

/** The page's recent rooms and last seen ids (code/client/recent-rooms.ts), over a storage that is a Map. */

function memoryStore(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    values,
    get: (key: string) => values.get(key),
    set: (key: string, value: string) => void values.set(key, value),
  };
}

const ID = (n: number) => `0mwr${String(n).padStart(8, '0')}x`;

describe('recent rooms', () => {
  it('keeps the most recent first, each once, at most eight, and forgets the last seen id of a room dropped', () => {
    const store = memoryStore();
    const recent = new RecentRooms(store);
    for (let i = 0; i < 9; i += 1) {
      recent.visit(`r${i}`);
      recent.markSeen(`r${i}`, ID(i));
    }
    recent.visit('r5');
    expect(recent.list()).toEqual(['r5', 'r8', 'r7', 'r6', 'r4', 'r3', 'r2', 'r1']);
    expect(recent.lastSeen('r0')).toBeUndefined();
    expect(Object.keys(JSON.parse(store.values.get(SEEN_KEY)!) as object).sort()).toEqual(
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'].sort(),
    );
  });

  it('moves a last seen id only forward, and only for a recent room', () => {
    const recent = new RecentRooms(memoryStore());
    recent.visit('dev');
    recent.markSeen('dev', ID(5));
    recent.markSeen('dev', ID(3));
    expect(recent.lastSeen('dev')).toBe(ID(5));
    recent.markSeen('dev', ID(7));
    expect(recent.lastSeen('dev')).toBe(ID(7));
    recent.markSeen('ops', ID(1));
    expect(recent.lastSeen('ops')).toBeUndefined();
    recent.markSeen('dev', 'not an id');
    expect(recent.lastSeen('dev')).toBe(ID(7));
  });

  it('asks for the other rooms whose last seen id it knows', () => {
    const recent = new RecentRooms(memoryStore());
    for (const room of ['a', 'b', 'c']) recent.visit(room);
    recent.markSeen('a', ID(1));
    recent.markSeen('c', ID(2));
    expect(recent.unreadRequest('c')).toEqual([{ room: 'a', since: ID(1) }]);
    expect(recent.unreadRequest('lobby')).toEqual([
      { room: 'c', since: ID(2) },
      { room: 'a', since: ID(1) },
    ]);
    // No more rooms than the server counts in one request (config.json's unreadRooms): the most recent ones.
    expect(recent.unreadRequest('lobby', 1)).toEqual([{ room: 'c', since: ID(2) }]);
  });

  it('reads whatever storage holds without trusting it', () => {
    const store = memoryStore({
      [ROOMS_KEY]: JSON.stringify(['Dev', 'dev', 'no way!', 5, '__proto__', 'ops']),
      [SEEN_KEY]: '{"__proto__":"0mwr1","dev":"<b>x</b>","ops":"0mwr00000002x","bad room":"0mwr1"}',
    });
    const recent = new RecentRooms(store);
    expect(recent.list()).toEqual(['dev', 'ops']);
    expect(recent.unreadRequest('dev')).toEqual([{ room: 'ops', since: '0mwr00000002x' }]);
    for (const junk of ['not json', '{"a":1}', 'null', '"x"']) {
      const broken = new RecentRooms(memoryStore({ [ROOMS_KEY]: junk, [SEEN_KEY]: junk }));
      expect(broken.list()).toEqual([]);
      expect(broken.lastSeen('a')).toBeUndefined();
    }
  });
});

describe('badgeText', () => {
  it('shows a count, "+" when capped, and nothing for none', () => {
    expect(badgeText({ count: 3, capped: false })).toBe('3');
    expect(badgeText({ count: 50, capped: true })).toBe('50+');
    expect(badgeText({ count: 0, capped: false })).toBeUndefined();
    expect(badgeText(undefined)).toBeUndefined();
  });
});
