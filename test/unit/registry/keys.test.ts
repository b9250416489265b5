import fc from 'fast-check';
import {
  connectionKey,
  decodeConnectionId,
  encodeConnectionId,
  memberKey,
  parseMemberKey,
} from '../../../code/registry/keys';

describe('connection key encoding', () => {
  it('maps the base64 characters COS treats specially', () => {
    expect(encodeConnectionId('ab/cd+ef==')).toBe('ab_cd-ef..');
    expect(connectionKey('/leading')).toBe('conn/_leading');
  });

  it('round-trips every base64 string', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/]{0,40}={0,2}$/), (id) => {
        const encoded = encodeConnectionId(id);
        expect(encoded).not.toMatch(/[/+=]/);
        expect(decodeConnectionId(encoded)).toBe(id);
      }),
    );
  });

  it('parses member keys back into room and ID, and rejects other shapes', () => {
    expect(parseMemberKey(memberKey('lobby', 'x/y+z='))).toEqual({ room: 'lobby', id: 'x/y+z=' });
    expect(parseMemberKey('room/lobby')).toBeUndefined();
    expect(parseMemberKey('room/lobby/a/b')).toBeUndefined();
  });
});
