import type { FunctionName, Invoker } from '../../code/gateway/invoker';

/**
 * The dev invoker: the gateway calls the handler modules in this process (or bundles in child processes) instead
 * of function URLs. Events and results cross as JSON, as they would cross SCF's boundary, so no state leaks
 * between a caller and a function: copied here for modules in this process; a bundle's child process already
 * receives and answers through JSON, so copying again would only be garbage on the gateway's heap
 * (23 KB per arrival into a room of 10,000, by a heap profile of the bench's stack process).
 */

export type ScfFunction = (event: unknown, context: unknown) => Promise<unknown>;

export function createLocalInvoker(
  functions: Partial<Record<FunctionName, ScfFunction>>,
  { copy = true }: { copy?: boolean } = {},
): Invoker {
  return {
    async invoke(fn, event) {
      const handler = functions[fn];
      if (!handler) throw new Error(`no local ${fn} function`);
      if (!copy) return handler(event, { callbackWaitsForEmptyEventLoop: true });
      const result = await handler(JSON.parse(JSON.stringify(event)) as unknown, {
        callbackWaitsForEmptyEventLoop: true,
      });
      return result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
    },
    async close() {},
  };
}
