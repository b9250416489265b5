import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { crc32, tarGz, zip } from '../../scripts/deploy/archive';
import { unzip } from './fake-cloud-api';

describe('archives', () => {
  const entries = [
    { name: 'web/index.html', data: Buffer.from('<!doctype html>') },
    { name: 'gateway/index.js', data: Buffer.from('console.log(1)\n'.repeat(100)) },
    { name: 'web/app.js', data: Buffer.alloc(0) },
  ];

  it('computes the zip CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('writes a zip with every file, the same bytes every time', () => {
    const a = zip(entries);
    expect(zip([...entries].reverse()).equals(a)).toBe(true);
    expect(unzip(a)).toEqual({
      'gateway/index.js': entries[1]!.data.toString(),
      'web/app.js': '',
      'web/index.html': '<!doctype html>',
    });
  });

  it('writes a tar.gz that tar unpacks, the same bytes every time', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wschat-archive-'));
    try {
      const archive = tarGz(entries);
      expect(tarGz([...entries].reverse()).equals(archive)).toBe(true);
      const file = path.join(dir, 'a.tgz');
      writeFileSync(file, archive);
      expect(execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n')).toEqual([
        'gateway/index.js',
        'web/app.js',
        'web/index.html',
      ]);
      expect(execFileSync('tar', ['-xzOf', file, 'gateway/index.js'], { encoding: 'utf8' })).toBe(
        entries[1]!.data.toString(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
