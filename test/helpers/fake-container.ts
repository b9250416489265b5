import { createChatService } from '../../code/chat/chat-service';
import { silentLogger } from '../../code/chat/log';
import { createRateLimiter } from '../../code/chat/rate-limiter';
import { loadConfig } from '../../code/config';
import type { Container } from '../../code/functions/container';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from './fakes';

/** A function container over the in-memory ports, for tests of the SCF handlers without servers. */
export function fakeContainer(env: Record<string, string> = {}) {
  const registry = new MemoryRegistry();
  const history = new MemoryHistory();
  const push = new RecordingPush();
  const config = loadConfig({
    COS_BUCKET: 'x-1250000000',
    COS_REGION: 'ap-guangzhou',
    // Never reached: the ports are in memory.
    COS_ENDPOINT: 'http://127.0.0.1:1',
    PUSH_URL: 'http://127.0.0.1:1/push',
    GATEWAY_SECRET: 'fake-container-gateway-secret-0123456789',
    ...env,
  });
  const chat = createChatService({
    registry,
    history,
    push,
    rateLimiter: createRateLimiter(1000, 1000),
    settings: { limits: TEST_LIMITS, defaultRoom: 'lobby', pushConcurrency: 4, broadcastBudgetMs: 1000 },
    log: silentLogger,
  });
  const container: Container = { config, chat, log: silentLogger };
  return { registry, history, push, chat, container };
}
