/**
 * A store (COS) that could not be reached, timed out or refused a request. Ports reject with it, so the chat core
 * can tell "storage is unavailable, try again" from a bug without knowing which store is behind the port.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly cause: unknown,
  ) {
    super(message);
  }
}
