import { StoreError } from '../util/store-error';
import { runCommand, type CommandTable } from './commands';
import type { ChatContext } from './context';
import { errorMessage } from './log';
import { envelope, parseClientFrame, ProtocolError, type ErrorCode } from './protocol';
import type { FrameOutcome, FrameRequest } from './requests';
import type { Senders } from './senders';

/** Reads the client's ref from the head of a frame too large to parse, so that it can match the error. */
const LEADING_REF = /^\s*\{[^{]{0,200}?"ref"\s*:\s*"([^"\\]{1,64})"/;

/** What the sender is told about a failure: the protocol error itself, or a generic one that leaks nothing. */
function describeFailure(error: unknown): { code: ErrorCode; message: string; ref?: string } {
  if (error instanceof ProtocolError) return { code: error.code, message: error.message, ref: error.ref };
  if (error instanceof StoreError) {
    return {
      code: 'store_unavailable',
      message: 'storage is busy or unreachable; nothing was sent, try again',
    };
  }
  return { code: 'internal', message: 'the server could not handle this message; try again' };
}

/**
 * One client frame: checked (binary, size, rate) and parsed before it costs anything, then run as a command.
 * Never throws: any failure becomes an error envelope to the sender. Resolves to the replies to the sender when
 * the gateway takes them with the answer (`inlineReplies`; else they were pushed), and to the sender's record
 * when it changed (see connection-context.ts).
 */
export async function receiveFrame(
  ctx: ChatContext,
  commands: CommandTable,
  senders: Senders,
  frame: FrameRequest,
): Promise<FrameOutcome> {
  const { connectionId } = frame;
  let context: string | undefined;
  const handle = async () => {
    context = await senders.handling(connectionId, frame.context, () => handleFrame(ctx, commands, frame));
  };
  let replies: string[] = [];
  if (frame.inlineReplies) replies = await ctx.holdReplies(connectionId, handle);
  else await handle();
  // Only a gateway that keeps contexts (ours: it says so with either field) is told one.
  const keepsContexts = frame.inlineReplies === true || frame.context !== undefined;
  return context === undefined || !keepsContexts ? { replies } : { replies, context };
}

async function handleFrame(ctx: ChatContext, commands: CommandTable, frame: FrameRequest): Promise<void> {
  const { connectionId } = frame;
  let ref: string | undefined;
  try {
    if (frame.frameType === 'binary') {
      throw new ProtocolError('binary_unsupported', 'binary frames are not supported; send text or JSON');
    }
    // Reject huge frames before parsing them: JSON.parse of megabytes costs memory and time.
    const maxFrame = ctx.settings.limits.maxMessageBytes * 2 + 1024;
    if (frame.data.length > maxFrame) {
      ref = LEADING_REF.exec(frame.data)?.[1];
      throw new ProtocolError('too_large', `frame is longer than ${maxFrame} characters`, ref);
    }
    const command = parseClientFrame(frame.data);
    ref = command.ref;
    if (!ctx.rateLimiter.take(connectionId, ctx.clock())) {
      throw new ProtocolError('rate_limited', 'too many messages; slow down', ref);
    }
    await runCommand(commands, connectionId, command);
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      ctx.log.error('transport_failed', { connection: connectionId, error: errorMessage(error) });
    }
    const failure = describeFailure(error);
    await ctx.replyError(
      connectionId,
      envelope({ type: 'error', code: failure.code, message: failure.message, ref: failure.ref ?? ref }),
    );
    if (failure.code === 'not_registered') await ctx.closeConnection(connectionId);
  }
}

/** Answers an event the gateway sent but the adapter could not read (e.g. no data): the sender learns why. */
export async function rejectEvent(ctx: ChatContext, connectionId: string, reason: string): Promise<void> {
  await ctx.replyError(connectionId, envelope({ type: 'error', code: 'bad_frame', message: reason }));
}
