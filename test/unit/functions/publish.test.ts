import { connectProtocols } from '../../../code/chat/protocol';
import { createPublishHandler } from '../../../code/functions/publish';
import { buildHttpEvent } from '../../../code/tencent/gateway';
import { fakeContainer } from '../../helpers/fake-container';

const PUBLISH_TOKEN = 'publish-secret';

function setup() {
  const { chat, registry, history, push, container } = fakeContainer({ PUBLISH_TOKEN });
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
