import { connectTag, connectionTag, identityTag, tagKeyFrom } from '../../../code/chat/identity';
import { newIdentityKey, IDENTITY_KEY, ProtocolError } from '../../../code/chat/protocol';
import { tagOf } from '../../../code/chat/rules';

describe('identity tags', () => {
  const tagKey = tagKeyFrom('a-gateway-secret-of-enough-length');

  it('gives a key the same tag on every connection, and a token nick the same tag whatever the key', () => {
    const key = newIdentityKey();
    expect(IDENTITY_KEY.test(key)).toBe(true);
    expect(connectTag(tagKey, 'conn-1', { key })).toBe(connectTag(tagKey, 'conn-2', { key }));
    expect(connectTag(tagKey, 'conn-1', { tokenNick: 'ann', key })).toBe(
      connectTag(tagKey, 'conn-2', { tokenNick: 'ann', key: newIdentityKey() }),
    );
    expect(connectTag(tagKey, 'conn-1', {})).toBe(tagOf('conn-1'));
  });

  it('is keyed by the server: the same client key gives other tags under other server keys', () => {
    // A plain hash of the client key would let anyone search offline for a key with a given tag.
    const key = newIdentityKey();
    const tags = new Set(
      Array.from({ length: 20 }, (_, i) => identityTag(tagKeyFrom(`secret-${i}`), `key:${key}`)),
    );
    expect(tags.size).toBeGreaterThan(15);
    expect(tagKeyFrom('s')).not.toBe(tagKeyFrom('t'));
    expect(tagKeyFrom('s')).toBe(tagKeyFrom('s'));
  });

  it('spreads keys over the tag space (4 hex digits)', () => {
    const tags = new Set(
      Array.from({ length: 500 }, () => connectTag(tagKey, 'c', { key: newIdentityKey() })),
    );
    for (const tag of tags) expect(tag).toMatch(/^[0-9a-f]{4}$/);
    expect(tags.size).toBeGreaterThan(480);
  });

  it('refuses a key that is too short, too long or not base64url', () => {
    for (const key of ['short', 'x'.repeat(129), `${'a'.repeat(30)}+/`]) {
      expect(() => connectTag(tagKey, 'c', { key })).toThrow(ProtocolError);
    }
  });

  it('shows a record’s registered tag, and a record from before tags were kept by its ID', () => {
    expect(connectionTag({ id: 'c', tag: 'beef' })).toBe('beef');
    expect(connectionTag({ id: 'c' })).toBe(tagOf('c'));
  });
});
