import { decodeContext, encodeContext } from '../../../code/chat/connection-context';
import { setupChat } from '../../helpers/chat-commands';

/**
 * The sender's record kept by our gateway (code/chat/connection-context.ts): register answers it, each frame
 * brings it back, transport answers a new one when a command changed it. What must hold: no registry read while
 * the gateway keeps it, the gateway always told the record as it now is, and an unusable one costs only the read.
 */

function withReads() {
  const chat = setupChat();
  const find = jest.spyOn(chat.registry, 'find');
  const frame = (id: string, command: Record<string, unknown>, context?: string) =>
    chat.chat.receive({
      connectionId: id,
      frameType: 'text',
      data: JSON.stringify(command),
      inlineReplies: true,
      ...(context === undefined ? {} : { context }),
    });
  return { ...chat, find, frame };
}

describe('the connection context', () => {
  it('round-trips a record, and reads nothing it cannot trust', () => {
    const record = { id: 'a=', room: 'lobby', nick: 'ana', connectedAt: 5, tag: '1a2b' };
    expect(decodeContext('a=', encodeContext(record))).toEqual(record);
    const { tag: _tag, ...untagged } = record;
    expect(decodeContext('a=', encodeContext(untagged))).toEqual(untagged);
    for (const bad of [
      undefined,
      '',
      'null',
      '[]',
      '{"room":"r"}',
      '{"room":"r","nick":"n","connectedAt":"5"}',
    ]) {
      expect(decodeContext('a=', bad)).toBeUndefined();
    }
  });

  it('register answers the record; a frame that brings it back needs no registry read', async () => {
    const { connect, frame, find } = withReads();
    const admitted = await connect('a=', { nick: 'ana', room: 'den' });
    if (!admitted.ok) throw new Error('refused');
    expect(decodeContext('a=', admitted.context)).toMatchObject({ nick: 'ana', room: 'den' });
    const joined = await frame('a=', { type: 'join', ref: 'j' }, admitted.context);
    expect(find).not.toHaveBeenCalled();
    expect(JSON.parse(joined.replies[0]!)).toMatchObject({
      type: 'ack',
      for: 'join',
      nick: 'ana',
      room: 'den',
    });
    // Nothing changed: the gateway keeps what it has.
    expect(joined.context).toBeUndefined();
  });

  it('a nick or room change is answered as the new context, and the next frame uses it without a read', async () => {
    const { connect, frame, find } = withReads();
    const admitted = await connect('a=', { nick: 'ana', room: 'den' });
    if (!admitted.ok) throw new Error('refused');
    const renamed = await frame('a=', { type: 'nick', nick: 'anna' }, admitted.context);
    expect(decodeContext('a=', renamed.context)).toMatchObject({ nick: 'anna', room: 'den' });
    const moved = await frame('a=', { type: 'join', room: 'hall' }, renamed.context);
    expect(decodeContext('a=', moved.context)).toMatchObject({ nick: 'anna', room: 'hall' });
    const sent = await frame('a=', { type: 'message', text: 'hi', ref: 'm' }, moved.context);
    expect(sent.replies.map((r) => JSON.parse(r) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ type: 'ack', for: 'message', ref: 'm' }),
    ]);
    expect(find).not.toHaveBeenCalled();
  });

  it('without a usable context the record is read, and the gateway is told it', async () => {
    const { connect, frame, find } = withReads();
    await connect('a=', { nick: 'ana', room: 'den' });
    const first = await frame('a=', { type: 'ping', ref: 'p' }, 'not a record');
    expect(find).toHaveBeenCalledTimes(1);
    expect(decodeContext('a=', first.context)).toMatchObject({ nick: 'ana', room: 'den' });
  });

  it('a close that brings the record back needs no read: the room it names hears the leave, the objects go', async () => {
    const { connect, frame, chat, find, registry, push } = withReads();
    await connect('b=', { nick: 'ben', room: 'den' });
    await frame('b=', { type: 'join' });
    const admitted = await connect('a=', { nick: 'ana', room: 'den' });
    if (!admitted.ok) throw new Error('refused');
    const moved = await frame('a=', { type: 'join', room: 'hall' }, admitted.context);
    push.clear();
    find.mockClear(); // ben's join read his record: he came without one
    await chat.disconnect({ connectionId: 'a=', context: moved.context });
    expect(find).not.toHaveBeenCalled();
    expect(await registry.find('a=')).toBeUndefined();
    const rooms = [];
    for await (const page of registry.members('hall')) rooms.push(...page.map((m) => m.id));
    expect(rooms).not.toContain('a=');
    // Ben is in the den, which ana left before she closed: he hears nothing of her leaving the hall.
    expect(push.to('b=')).toEqual([]);
  });

  it('a gateway that keeps no contexts (no flag, no context) is told none', async () => {
    const { connect, chat } = withReads();
    await connect('a=', { nick: 'ana' });
    const outcome = await chat.receive({ connectionId: 'a=', frameType: 'text', data: '{"type":"ping"}' });
    expect(outcome).toEqual({ replies: [] });
  });
});
