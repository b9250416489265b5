/**
 * State that lives while one piece of work for a key runs (the frame of one connection being handled), and that
 * other code reaches by the key meanwhile. A key's work is expected to run one at a time; a run for a key whose
 * work is already running gets no state of its own and leaves the running one's alone.
 */
export function createKeyedScope<T>() {
  const entries = new Map<string, T>();
  return {
    get: (key: string): T | undefined => entries.get(key),
    /** Ends the key's state before its work ends (what was in it is the caller's to finish). */
    end(key: string): void {
      entries.delete(key);
    },
    /** Runs `work` with `state` as the key's; resolves to it, or to undefined if the key was already running. */
    async run(key: string, state: T, work: () => Promise<void>): Promise<T | undefined> {
      if (entries.has(key)) {
        await work();
        return undefined;
      }
      entries.set(key, state);
      try {
        await work();
      } finally {
        if (entries.get(key) === state) entries.delete(key);
      }
      return state;
    },
  };
}
