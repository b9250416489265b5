import { createKeyedScope } from '../../../code/util/keyed-scope';

describe('createKeyedScope', () => {
  it("holds a key's state while its work runs, and only then", async () => {
    const scope = createKeyedScope<{ n: number }>();
    const seen: Array<number | undefined> = [];
    const state = await scope.run('a', { n: 1 }, async () => {
      seen.push(scope.get('a')?.n, scope.get('b')?.n);
    });
    expect(seen).toEqual([1, undefined]);
    expect(state).toEqual({ n: 1 });
    expect(scope.get('a')).toBeUndefined();
  });

  it("gives a run for a key already running no state, and leaves the running one's alone", async () => {
    const scope = createKeyedScope<{ n: number }>();
    let inner: { n: number } | undefined = { n: -1 };
    await scope.run('a', { n: 1 }, async () => {
      inner = await scope.run('a', { n: 2 }, async () => undefined);
      expect(scope.get('a')).toEqual({ n: 1 });
    });
    expect(inner).toBeUndefined();
  });

  it('ends a state early on request, and a failing run still ends its own', async () => {
    const scope = createKeyedScope<{ n: number }>();
    await scope.run('a', { n: 1 }, async () => {
      scope.end('a');
      expect(scope.get('a')).toBeUndefined();
    });
    await expect(
      scope.run('b', { n: 1 }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(scope.get('b')).toBeUndefined();
  });
});
