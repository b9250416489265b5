import { readFileSync } from 'fs';
import { join } from 'path';

/**
 * `npm install` rewrites the lock's root entry from package.json whenever they differ (it did for `engines`), so
 * a fresh clone showed a modified package-lock.json. The root entry must say what package.json says.
 */
const root = join(__dirname, '..', '..', '..');
const read = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8')) as Record<string, unknown>;

describe('package-lock.json', () => {
  it("root entry matches package.json's name, version, dependencies, bin and engines", () => {
    const pkg = read('package.json');
    const lock = read('package-lock.json');
    const lockRoot = (lock.packages as Record<string, Record<string, unknown>>)[''];
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
    for (const field of ['name', 'version', 'license', 'dependencies', 'devDependencies', 'bin', 'engines']) {
      expect({ field, value: lockRoot?.[field] }).toEqual({ field, value: pkg[field] });
    }
  });
});
