import type { FunctionName, Invoker } from '../../code/gateway/invoker';

/**
 * The dev invoker: the gateway calls the handler modules in this process (or bundles in child processes) instead
 * of function URLs. Events and results are copied through JSON, as they would cross SCF's boundary, so no state
 * leaks between a caller and a function.
 */

export type ScfFunction = (event: unknown, context: unknown) => Promise<unknown>;

export function createLocalInvoker(functions: Partial<Record<FunctionName, ScfFunction>>): Invoker {
  return {
    async invoke(fn, event) {
      const handler = functions[fn];
      if (!handler) throw new Error(`no local ${fn} function`);
      const copy: unknown = JSON.parse(JSON.stringify(event));
      const result = await handler(copy, { callbackWaitsForEmptyEventLoop: true });
      return result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
    },
    async close() {},
  };
}
