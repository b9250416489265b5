import { renderEvent } from '../../../scripts/cli/render';

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
