import { createLocalInvoker, type ScfFunction } from '../../../scripts/local/local-invoker';

describe('the dev invoker', () => {
  /** A handler that keeps what it was given and changes it, as careless handler code could. */
  function keeping() {
    const seen: Array<{ event: unknown; result: { shared: string[] } }> = [];
    const fn: ScfFunction = async (event) => {
      const result = { shared: ['from the function'] };
      (event as { touched?: boolean }).touched = true;
      seen.push({ event, result });
      return result;
    };
    return { fn, seen };
  }

  it('copies events and results for modules in this process, as crossing SCF would', async () => {
    const { fn, seen } = keeping();
    const event = { frame: 'hello' };
    const result = (await createLocalInvoker({ transport: fn }).invoke('transport', event, 1000)) as {
      shared: string[];
    };
    expect(event).toEqual({ frame: 'hello' });
    expect(seen[0]!.event).not.toBe(event);
    result.shared.push('changed by the gateway');
    expect(seen[0]!.result.shared).toEqual(['from the function']);
  });

  it('hands a bundle what it is given: its process boundary copies already', async () => {
    const { fn, seen } = keeping();
    const event = { frame: 'hello' };
    const result = await createLocalInvoker({ transport: fn }, { copy: false }).invoke(
      'transport',
      event,
      1000,
    );
    expect(seen[0]!.event).toBe(event);
    expect(result).toBe(seen[0]!.result);
  });

  it('says which function it does not have', async () => {
    await expect(createLocalInvoker({}).invoke('cleanup', {}, 1000)).rejects.toThrow(
      'no local cleanup function',
    );
  });
});
