import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { Extras, identityFile, loadIdentityKey, parseExtraInput } from '../../../scripts/cli/extras';

describe('terminal client extras', () => {
  it('reads /who, /who more and /typing, and leaves every other line to the session', () => {
    expect(parseExtraInput('/who')).toEqual({ kind: 'who', more: false });
    expect(parseExtraInput('/WHO more')).toEqual({ kind: 'who', more: true });
    expect(parseExtraInput('/typing')).toEqual({ kind: 'typing' });
    expect(parseExtraInput('/who all')).toMatchObject({ kind: 'invalid' });
    expect(parseExtraInput('/typing now')).toMatchObject({ kind: 'invalid' });
    for (const other of ['who', '/whoami', '//who', '/nick who', 'hello']) {
      expect(parseExtraInput(other)).toBeUndefined();
    }
  });

  it('pages members with the cursor of the last page, and says when there is none', () => {
    const extras = new Extras();
    expect(extras.command({ kind: 'who', more: true })).toEqual({
      err: '! no more members: /who starts again',
    });
    expect(JSON.parse(extras.command({ kind: 'who', more: false }).send!)).toEqual({
      type: 'members',
      ref: 'who',
    });
    const page = {
      v: 1,
      type: 'members',
      room: 'big',
      members: [{ nick: 'a\u001b[31m', tag: '0001' }],
      next: 'c1',
    };
    const [line] = extras.received(JSON.stringify(page), Date.UTC(2026, 0, 1, 12, 0, 0));
    expect(line).toMatch(/^\d\d:\d\d:\d\d \* in big: a\\u\{1b\}\[31m#0001 \(more: \/who more\)$/);
    expect(JSON.parse(extras.command({ kind: 'who', more: true }).send!)).toEqual({
      type: 'members',
      ref: 'who',
      after: 'c1',
    });
  });

  it('shows a typist once per 10 s, and again once their message arrived', () => {
    const extras = new Extras();
    const typing = JSON.stringify({ v: 1, type: 'typing', room: 'r', nick: 'bob', tag: '9c0e', ts: 1000 });
    expect(extras.received(typing, 1000)).toEqual([expect.stringMatching(/\* bob#9c0e is typing$/)]);
    expect(extras.received(typing, 4000)).toEqual([]);
    expect(extras.received(typing, 11_500)).toHaveLength(1);
    const message = {
      v: 1,
      type: 'message',
      id: 'x',
      room: 'r',
      from: 'bob',
      tag: '9c0e',
      text: 'hi',
      ts: 1,
    };
    expect(extras.received(JSON.stringify(message), 12_000)).toEqual([]);
    expect(extras.received(typing, 12_500)).toHaveLength(1);
    expect(extras.received('not json', 0)).toEqual([]);
  });

  describe('identity key file', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-key-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('creates a private key once and reads it back; replaces a damaged one', () => {
      const file = path.join(dir, 'sub', 'identity');
      const created = loadIdentityKey(file);
      expect(created.created).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadIdentityKey(file)).toEqual({ key: created.key, created: false });
      writeFileSync(file, 'not a key\n', { mode: 0o644 });
      const replaced = loadIdentityKey(file);
      expect(replaced.created).toBe(true);
      expect(readFileSync(file, 'utf8').trim()).toBe(replaced.key);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    it('lives where the environment says, and nowhere when WSCHAT_IDENTITY_FILE is empty', () => {
      expect(identityFile({ WSCHAT_IDENTITY_FILE: '/x/key' })).toBe('/x/key');
      expect(identityFile({ WSCHAT_IDENTITY_FILE: '' })).toBeUndefined();
      expect(identityFile({ XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/wschat/identity');
      expect(identityFile({})).toBe(path.join(os.homedir(), '.config', 'wschat', 'identity'));
    });
  });
});
