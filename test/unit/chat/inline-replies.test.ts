import { createChatService } from '../../../code/chat/chat-service';
import { createContext, MAX_HELD_REPLY_CHARS } from '../../../code/chat/context';
import { silentLogger } from '../../../code/chat/log';
import { createMessageIdSource } from '../../../code/chat/message-id';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import type { PushClient, PushOutcome } from '../../../code/push/push-client';
import { setupChat } from '../../helpers/chat-commands';
import { MemoryHistory, MemoryRegistry, TEST_LIMITS } from '../../helpers/fakes';

/**
 * Replies to the sender of a frame ride the invocation's answer when the gateway takes them (ours does:
 * FrameRequest.inlineReplies), instead of costing a push each. What must hold: the same frames in the same order,
 * nothing lost past the size cap, and a close never overtaking what was said before it.
 */

/** Pushes and closes in the one order they happened. */
class OrderedPush implements PushClient {
  readonly log: string[] = [];
  async send(connectionId: string, text: string): Promise<PushOutcome> {
    this.log.push(`send ${connectionId} ${text.slice(0, 40)}`);
    return 'delivered';
  }
  async close(connectionId: string): Promise<PushOutcome> {
    this.log.push(`close ${connectionId}`);
    return 'delivered';
  }
}

function depsOn(push: PushClient, authSecret?: string) {
  const clock = () => 1_800_000_000_000;
  return {
    registry: new MemoryRegistry(clock),
    history: new MemoryHistory(undefined, clock),
    push,
    rateLimiter: createRateLimiter(1000, 1000),
    settings: {
      limits: TEST_LIMITS,
      defaultRoom: 'lobby',
      pushConcurrency: 4,
      broadcastBudgetMs: 5000,
      authSecret,
    },
    log: silentLogger,
    clock,
  };
}

const contextOn = (push: PushClient) =>
  createContext(
    depsOn(push),
    depsOn(push).clock,
    createMessageIdSource(() => '00000000'),
  );

describe('replies with the answer (inlineReplies)', () => {
  it("a join's ack and history come back from receive, in order, and are not pushed", async () => {
    const { connect, chat, push } = setupChat();
    await connect('old=', { nick: 'old' });
    await chat.receive({ connectionId: 'old=', frameType: 'text', data: '{"type":"join","ref":"o"}' });
    await chat.receive({ connectionId: 'old=', frameType: 'text', data: '{"type":"message","text":"hi"}' });
    await connect('new=', { nick: 'new' });
    push.clear();
    const { replies } = await chat.receive({
      connectionId: 'new=',
      frameType: 'text',
      data: '{"type":"join","ref":"j"}',
      inlineReplies: true,
    });
    const frames = replies.map((r) => JSON.parse(r) as Record<string, unknown>);
    expect(frames.map((f) => f.type)).toEqual(['ack', 'history']);
    expect(frames[0]).toMatchObject({ for: 'join', ref: 'j', online: 2 });
    expect(frames[1]).toMatchObject({ ref: 'j', messages: [expect.objectContaining({ text: 'hi' })] });
    expect(push.to('new=')).toEqual([]);
    // The room still hears of the arrival by push: only the sender's own replies ride the answer.
    expect(push.to('old=')).toEqual([
      expect.objectContaining({ type: 'presence', event: 'join', nick: 'new' }),
    ]);
  });

  it('without the flag the same replies are pushed and receive returns none', async () => {
    const { connect, chat, push } = setupChat();
    await connect('a=', { nick: 'a' });
    const { replies } = await chat.receive({
      connectionId: 'a=',
      frameType: 'text',
      data: '{"type":"join"}',
    });
    expect(replies).toEqual([]);
    expect(push.to('a=').map((f) => f.type)).toEqual(['ack', 'history']);
  });

  it('an error reply rides the answer too: bad input is still answered', async () => {
    const { connect, chat, push } = setupChat();
    await connect('a=', { nick: 'a' });
    const { replies } = await chat.receive({
      connectionId: 'a=',
      frameType: 'text',
      data: '{"type":"nope"}',
      inlineReplies: true,
    });
    expect(replies.map((r) => JSON.parse(r) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ type: 'error', code: 'unknown_command' }),
    ]);
    expect(push.to('a=')).toEqual([]);
  });

  it('a client the registry does not know is told why before it is closed, in that order', async () => {
    const push = new OrderedPush();
    // With access control on, a lost record cannot be re-created: the client must reconnect with its token.
    const chat = createChatService(depsOn(push, 'a-secret-of-at-least-32-characters!'));
    const { replies } = await chat.receive({
      connectionId: 'ghost=',
      frameType: 'text',
      data: '{"type":"message","text":"boo"}',
      inlineReplies: true,
    });
    expect(replies).toEqual([]);
    expect(push.log).toEqual([expect.stringMatching(/^send ghost= .*"error"/), 'close ghost=']);
  });

  it('past the size cap the held replies are pushed first, in order, then the rest', async () => {
    const push = new OrderedPush();
    const ctx = contextOn(push);
    const third = Math.floor(MAX_HELD_REPLY_CHARS / 3);
    const frame = (n: number) => `${n}`.padEnd(third + 1, '.');
    const replies = await ctx.holdReplies('a=', async () => {
      await ctx.reply('a=', frame(1));
      await ctx.reply('a=', frame(2));
      expect(push.log).toEqual([]);
      await ctx.reply('a=', frame(3)); // three no longer fit
      await ctx.reply('a=', frame(4));
    });
    expect(replies).toEqual([]);
    expect(push.log.map((line) => line.slice(0, 9))).toEqual([
      'send a= 1',
      'send a= 2',
      'send a= 3',
      'send a= 4',
    ]);
  });

  it('invocations side by side in one container each get their own replies, and others are pushed', async () => {
    const push = new OrderedPush();
    const ctx = contextOn(push);
    let releaseFirst!: () => void;
    const firstWaits = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = ctx.holdReplies('a=', async () => {
      await ctx.reply('a=', 'for a, before');
      await firstWaits;
      await ctx.reply('a=', 'for a, after');
    });
    const second = ctx.holdReplies('b=', async () => {
      await ctx.reply('b=', 'for b');
      await ctx.reply('c=', 'for c, not held');
    });
    expect(await second).toEqual(['for b']);
    releaseFirst();
    expect(await first).toEqual(['for a, before', 'for a, after']);
    expect(push.log).toEqual(['send c= for c, not held']);
    // Once its invocation has answered, a connection's replies are pushed again.
    await ctx.reply('a=', 'later');
    expect(push.log).toEqual(['send c= for c, not held', 'send a= later']);
  });
});
