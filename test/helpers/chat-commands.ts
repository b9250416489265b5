import { createChatService } from '../../code/chat/chat-service';
import { createRateLimiter } from '../../code/chat/rate-limiter';
import { silentLogger, type Logger } from '../../code/chat/log';
import { connectProtocols } from '../../code/chat/protocol';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from './fakes';

/**
 * The chat core on in-memory ports and a fake clock, for tests of one command at a time: connect clients, send
 * them frames, read what was pushed to whom.
 */
export function setupChat(
  settings: {
    presenceMaxOnline?: number;
    authSecret?: string;
    tagKey?: string;
    history?: MemoryHistory;
    log?: Logger;
  } = {},
) {
  let now = 1_800_000_000_000;
  const clock = () => now;
  const registry = new MemoryRegistry(clock);
  const history = settings.history ?? new MemoryHistory(undefined, clock);
  const push = new RecordingPush();
  const limits = {
    ...TEST_LIMITS,
    presenceMaxOnline: settings.presenceMaxOnline ?? TEST_LIMITS.presenceMaxOnline,
  };
  const chat = createChatService({
    registry,
    history,
    push,
    rateLimiter: createRateLimiter(1000, 1000),
    settings: {
      limits,
      defaultRoom: 'lobby',
      pushConcurrency: 4,
      broadcastBudgetMs: 5000,
      authSecret: settings.authSecret,
      tagKey: settings.tagKey ?? 'tag-key',
    },
    log: settings.log ?? silentLogger,
    clock,
  });
  const connect = (
    id: string,
    options: { room?: string; nick?: string; token?: string; key?: string } = {},
  ) => chat.connect({ connectionId: id, protocols: connectProtocols(options) });
  const send = (id: string, command: Record<string, unknown>) =>
    chat.receive({ connectionId: id, frameType: 'text', data: JSON.stringify(command) });
  return { chat, registry, history, push, connect, send, clock, advance: (ms: number) => (now += ms) };
}
