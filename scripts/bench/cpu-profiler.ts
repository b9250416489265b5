/**
 * A CPU profile of one stretch of work (one invocation, not the require or the warm-up), through the inspector.
 * `inspector` is loaded only when asked for, so an unprofiled runner does not pay for it.
 */
export async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import('inspector');
  const { writeFile } = await import('fs/promises');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  // 200 µs: fine enough to see per-push costs of a few hundred µs.
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
    },
  };
}
