import { createChatService } from '../../../code/chat/chat-service';
import { connectProtocols } from '../../../code/chat/protocol';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import { silentLogger } from '../../../code/chat/log';
import { loadConfig } from '../../../code/config';
import type { Container } from '../../../code/functions/container';
import { createPublishHandler } from '../../../code/functions/publish';
import { buildHttpEvent } from '../../../code/tencent/gateway';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from '../../helpers/fakes';

const PUBLISH_TOKEN = 'publish-secret';

function setup() {
  const registry = new MemoryRegistry();
  const history = new MemoryHistory();
  const push = new RecordingPush();
  const config = loadConfig({
    COS_BUCKET: 'x-1250000000',
    COS_REGION: 'ap-guangzhou',
    COS_ENDPOINT: 'http://127.0.0.1:1',
    PUSH_URL: 'http://127.0.0.1:1/push',
    PUBLISH_TOKEN,
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
  const publish = createPublishHandler(() => container);
  const post = (body: unknown) =>
    publish(
      buildHttpEvent({
        method: 'POST',
        path: '/publish',
        headers: { authorization: `Bearer ${PUBLISH_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
  return { chat, registry, history, push, post };
}

describe('publish function', () => {
  it('delivers with stored: false when history cannot store the message, like a chat message', async () => {
    const { chat, history, push, post } = setup();
    await chat.connect({ connectionId: 'a=', protocols: connectProtocols({}) });
    push.clear();
    history.failAppend = true;
    const response = await post({ room: 'lobby', text: 'history is down' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ delivered: 1, stored: false });
    expect(push.to('a=')).toEqual([expect.objectContaining({ text: 'history is down', source: 'api' })]);
  });

  it('answers 500 and delivers nothing when the room cannot be listed', async () => {
    const { chat, registry, push, post } = setup();
    await chat.connect({ connectionId: 'a=', protocols: connectProtocols({}) });
    push.clear();
    registry.failNext.members = new Error('COS down');
    const response = await post({ room: 'lobby', text: 'nobody hears this' });
    expect(response.statusCode).toBe(500);
    expect(push.sent).toEqual([]);
  });
});
