import { createChatService } from '../../../code/chat/chat-service';
import { silentLogger } from '../../../code/chat/log';
import { connectProtocols } from '../../../code/chat/protocol';
import { createRateLimiter } from '../../../code/chat/rate-limiter';
import type { PushOutcome } from '../../../code/push/push-client';
import { MemoryHistory, MemoryRegistry, RecordingPush, TEST_LIMITS } from '../../helpers/fakes';

/** Pushes that wait until the test opens the gate, so that arrivals pile up behind a fan-out in flight. */
class GatedPush extends RecordingPush {
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
  }
  override async send(connectionId: string, text: string): Promise<PushOutcome> {
    await this.gate;
    return super.send(connectionId, text);
  }
}

function setup(presenceMaxOnline = 1000) {
  const registry = new MemoryRegistry();
  const push = new GatedPush();
  const limits = { ...TEST_LIMITS, presenceMaxOnline };
  const chat = createChatService({
    registry,
    history: new MemoryHistory(),
    push,
    rateLimiter: createRateLimiter(limits.ratePerSecond, limits.rateBurst),
    settings: { limits, defaultRoom: 'lobby', pushConcurrency: 8, broadcastBudgetMs: 5000 },
    log: silentLogger,
  });
  const arrive = async (id: string) => {
    await chat.connect({ connectionId: id, protocols: connectProtocols({ nick: id.replace('=', '') }) });
    await chat.receive({ connectionId: id, frameType: 'text', data: '{"type":"join","room":"lobby"}' });
  };
  const presence = (id: string) => push.to(id).filter((f) => f.type === 'presence');
  return { chat, push, arrive, presence };
}

describe('presence', () => {
  it('is not sent by the handshake: a connection alone tells nobody', async () => {
    const { chat, push, arrive } = setup();
    await arrive('m=');
    push.clear();
    await chat.connect({ connectionId: 'quiet=', protocols: connectProtocols({ nick: 'quiet' }) });
    expect(push.sent).toEqual([]);
  });

  /** Who the presence frames a member got say arrived, in order, whether one by one or batched. */
  const arrivals = (frames: Array<Record<string, unknown>>) =>
    frames.flatMap((f) =>
      f.event === 'batch' ? (f.joined as Array<{ nick: string }>).map((j) => j.nick) : [f.nick as string],
    );

  it('sends arrivals that come during a fan-out together, as one batch frame', async () => {
    const { push, arrive, presence } = setup();
    await arrive('m1=');
    await arrive('m2=');
    await arrive('x=');
    push.clear();
    push.hold();
    const first = arrive('y=');
    await new Promise((resolve) => setImmediate(resolve));
    // y='s fan-out is in flight (held); these wait for it and then go out together.
    const rest = [arrive('z='), arrive('w=')];
    await new Promise((resolve) => setImmediate(resolve));
    push.release();
    await Promise.all([first, ...rest]);
    expect(presence('m1=')).toEqual([
      expect.objectContaining({ event: 'join', nick: 'y', online: 4 }),
      expect.objectContaining({ event: 'batch', room: 'lobby', left: [], renamed: [], online: 6 }),
    ]);
    expect(arrivals(presence('m1='))).toEqual(['y', 'z', 'w']);
    expect(presence('m1=')[1]!.joined).toEqual([
      { nick: 'z', tag: expect.any(String) },
      { nick: 'w', tag: expect.any(String) },
    ]);
    // Who a frame is about does not get it.
    expect(arrivals(presence('y='))).toEqual(['z', 'w']);
    expect(presence('w=')).toEqual([]);
    // Each arrival still got its own ack with the count after it.
    expect(push.to('w=').find((f) => f.type === 'ack')).toMatchObject({ for: 'join', online: 6 });
  });

  it('costs a crowd arriving at once at most two fan-outs, not one per arrival', async () => {
    const { push, arrive, presence } = setup();
    await arrive('m=');
    push.clear();
    push.hold();
    const crowd = Array.from({ length: 50 }, (_, i) => arrive(`c${i}=`));
    await new Promise((resolve) => setImmediate(resolve));
    push.release();
    await Promise.all(crowd);
    expect(presence('m=').length).toBeLessThanOrEqual(2);
    expect(arrivals(presence('m='))).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    expect(presence('m=').at(-1)).toMatchObject({ online: 51 });
    // At most: one frame to m= for the first arrival, one to m= and that first one for the rest.
    expect(push.sent.filter((s) => s.frame.type === 'presence').length).toBeLessThanOrEqual(3);
  });

  it('sends nothing but counts above PRESENCE_MAX_ONLINE', async () => {
    const { push, arrive } = setup(3);
    for (const id of ['a=', 'b=', 'c=']) await arrive(id);
    push.clear();
    await arrive('d=');
    expect(push.sent.filter((s) => s.frame.type === 'presence')).toEqual([]);
    expect(push.to('d=').find((f) => f.type === 'ack')).toMatchObject({ for: 'join', online: 4 });
  });

  it('announces a connection once, not on every re-join of its room (a catch-up)', async () => {
    const { chat, push, arrive, presence } = setup();
    await arrive('m=');
    await arrive('x=');
    push.clear();
    await chat.receive({ connectionId: 'x=', frameType: 'text', data: '{"type":"join","room":"lobby"}' });
    expect(presence('m=')).toEqual([]);
    expect(push.to('x=').find((f) => f.type === 'ack')).toMatchObject({ for: 'join', online: 2 });
  });
});
