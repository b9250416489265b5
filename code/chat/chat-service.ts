import { randomBytes } from 'crypto';
import { createCommandTable } from './commands';
import { connect, disconnect } from './connect';
import { createContext, type ChatDeps } from './context';
import { createMessageIdSource } from './message-id';
import { publish, type PublishResult } from './publish';
import { receiveFrame, rejectEvent } from './receive';
import type {
  CloseRequest,
  ConnectOutcome,
  ConnectRequest,
  FrameOutcome,
  FrameRequest,
  PublishRequest,
} from './requests';
import { createSenders } from './senders';
import { sweep, type SweepReport } from './sweep';

export type { ChatDeps, ChatSettings } from './context';
export type { ConnectOutcome, PublishResult, SweepReport };

/**
 * The chat core, assembled: what happens when a client connects, sends a frame or leaves, when a backend
 * publishes, and when the sweep runs. Each use case lives in its own file; this one only wires them to the
 * ports and to the state one warm container keeps (the sender cache, the message-ID sequence).
 */
export function createChatService(deps: ChatDeps) {
  const randomSuffix = deps.randomSuffix ?? (() => randomBytes(4).toString('hex'));
  const ctx = createContext(deps, deps.clock ?? Date.now, createMessageIdSource(randomSuffix));
  const senders = createSenders(ctx);
  const commands = createCommandTable(ctx, senders);
  return {
    connect: (request: ConnectRequest): Promise<ConnectOutcome> => connect(ctx, request),
    /**
     * Never throws: any failure becomes an error envelope to the sender. Resolves to what the caller must hand
     * the gateway with its answer: replies (only with `frame.inlineReplies`; otherwise they were pushed) and the
     * sender's record if it changed.
     */
    receive: (frame: FrameRequest): Promise<FrameOutcome> => receiveFrame(ctx, commands, senders, frame),
    /** Answers an event the gateway sent but we could not read (e.g. no data): the sender learns why. */
    rejectEvent: (connectionId: string, reason: string): Promise<void> =>
      rejectEvent(ctx, connectionId, reason),
    disconnect: (request: CloseRequest): Promise<void> => disconnect(ctx, request),
    publish: (request: PublishRequest): Promise<PublishResult> => publish(ctx, request),
    sweep: (): Promise<SweepReport> => sweep(ctx),
  };
}

export type ChatService = ReturnType<typeof createChatService>;
