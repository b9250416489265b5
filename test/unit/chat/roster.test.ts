import type { ChatContext } from '../../../code/chat/context';
import { BIG_ROOM_COUNT_MAX_AGE_MS, FRESH, liveIds, readRoster } from '../../../code/chat/roster';
import type { CachedMember } from '../../../code/chat/roster-cache';
import { TEST_LIMITS } from '../../helpers/fakes';

/** A room the cache holds, counting how often something walks it whole. */
class CountedRoom extends Map<string, CachedMember> {
  walks = 0;
  override [Symbol.iterator]() {
    this.walks += 1;
    return super[Symbol.iterator]();
  }
}

function setup(members: number) {
  let now = 1_800_000_000_000;
  const room = new CountedRoom();
  for (let i = 0; i < members; i += 1) room.set(`m${i}`, { lastSeen: now, version: 'v' });
  // Only what readRoster reads of a context: the cache, the clock and the TTL.
  const ctx = {
    rosters: { read: () => Promise.resolve(room) },
    clock: () => now,
    settings: { limits: TEST_LIMITS },
  } as unknown as ChatContext;
  return { ctx, room, advance: (ms: number) => (now += ms) };
}

describe('readRoster', () => {
  it('walks a big room once per count interval however many counts are read, then again', async () => {
    const { ctx, room, advance } = setup(10_000);
    const first = await readRoster(ctx, 'big', undefined, BIG_ROOM_COUNT_MAX_AGE_MS);
    for (let i = 0; i < 500; i += 1) {
      expect((await readRoster(ctx, 'big', undefined, BIG_ROOM_COUNT_MAX_AGE_MS)).online).toBe(10_000);
    }
    expect(room.walks).toBe(1);
    expect(liveIds(ctx, first)).toBe(liveIds(ctx, first)); // built once for the shared roster
    expect(liveIds(ctx, first).size).toBe(10_000);

    advance(BIG_ROOM_COUNT_MAX_AGE_MS);
    room.delete('m0');
    expect((await readRoster(ctx, 'big', undefined, BIG_ROOM_COUNT_MAX_AGE_MS)).online).toBe(9_999);
    expect(room.walks).toBe(2);
  });

  it('walks the room on every read that must be current, or that names a sender', async () => {
    const { ctx, room } = setup(10);
    await readRoster(ctx, 'r', undefined, FRESH);
    await readRoster(ctx, 'r', undefined, FRESH);
    const withSender = await readRoster(ctx, 'r', 'm3', BIG_ROOM_COUNT_MAX_AGE_MS);
    expect(room.walks).toBe(3);
    expect(withSender.excluded?.id).toBe('m3');
    expect(withSender.online).toBe(10);
  });
});
