/**
 * A failure the operator can act on: what failed, what to change, and (for a phase) how to resume. The entry point
 * prints it and exits non-zero; no stack trace, because the message is the whole story.
 */
export class DeployError extends Error {
  override readonly name = 'DeployError';
  constructor(
    message: string,
    readonly fix: string,
    /** The phase to resume from; undefined for failures before any phase ran (configuration, credentials). */
    readonly phase?: number,
    /** The Tencent Cloud or COS error code behind it, when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
