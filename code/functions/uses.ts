import type { ChatConfig } from '../config';
import type { FrameOutcome, FrameRequest } from '../chat/requests';
import type { SweepReport } from '../chat/sweep';
import { errorMessage } from '../chat/log';
import type { Container } from './container';

/*
 * What the frame and sweep entries do, on either platform; each entry only names its platform's event reader.
 * Its own file, free of SDK and platform imports, so each bundle carries only its own platform.
 */

/**
 * Never throws: a frame that cannot be read becomes an error envelope to its sender, when there is one. Resolves
 * to what the answer must carry (ChatService.receive).
 */
export async function receiveOrReject(
  { chat, log }: Container<ChatConfig>,
  event: unknown,
  parse: (event: unknown) => FrameRequest,
  connectionIdIfAny: (event: unknown) => string | undefined,
): Promise<FrameOutcome> {
  try {
    return await chat.receive(parse(event));
  } catch (error) {
    const connectionId = connectionIdIfAny(event);
    log.warn('bad_event', { connection: connectionId, error: errorMessage(error) });
    if (connectionId !== undefined) await chat.rejectEvent(connectionId, errorMessage(error));
    return { replies: [] };
  }
}

/** A scheduled invocation that throws shows as failed in monitoring (SCF and CloudWatch alike), so rethrow. */
export async function sweepOrThrow({ chat, log }: Container<ChatConfig>): Promise<SweepReport> {
  try {
    return await chat.sweep();
  } catch (error) {
    log.error('sweep_failed', { error: errorMessage(error) });
    throw error;
  }
}
