import { loadConfig } from '../../code/config';
import { createContainer } from '../../code/functions/container';
import { createTransportHandler } from '../../code/functions/transport';
import { createCleanupHandler } from '../../code/functions/cleanup';
import { createObjectStore } from '../../code/cos/object-store';
import { createCosRegistry } from '../../code/registry/cos-registry';
import { buildCloseEvent, buildFrameEvent } from '../../code/tencent/gateway';
import { silentLogger } from '../../code/chat/log';
import { encodeConnectionId } from '../../code/registry/keys';
import { startCos, BUCKET, type LocalCos } from '../helpers/local-cos';
import { startPushSink, type PushSink } from '../helpers/push-sink';

/** The transport and cleanup handlers with the real COS SDK, the real push client and real HTTP. */
describe('broadcast through the real ports', () => {
  let local: LocalCos;
  let sink: PushSink;

  beforeAll(async () => {
    local = await startCos();
    sink = await startPushSink();
  });
  afterAll(async () => {
    await local.close();
    await sink.close();
  });

  it('reaches every one of 2,500 connections exactly once, excludes the sender and prunes the gone', async () => {
    const config = loadConfig({ ...local.env, PUSH_URL: sink.url, HANDSHAKE_GRACE_MS: '0' });
    const registry = createCosRegistry(createObjectStore(config.cos));
    const ids = Array.from({ length: 2500 }, (_, i) => Buffer.from(`member-${i}/x`).toString('base64'));
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        ids.slice(i, i + 100).map((id) => registry.add({ id, room: 'lobby', nick: 'n', connectedAt: 0 })),
      );
    }
    const [sender, ...others] = ids as [string, ...string[]];
    const goneIds = others.slice(0, 7);
    goneIds.forEach((id) => sink.gone.add(id));

    const transport = createTransportHandler(() => createContainer(config, silentLogger));
    const reply = await transport(buildFrameEvent(sender, 'text', 'hello everyone'), {});
    expect(reply).toEqual({ errNo: 0, errMsg: 'ok' });

    const live = others.filter((id) => !sink.gone.has(id));
    for (const id of live) {
      const frames = sink.received.get(id) ?? [];
      expect(frames).toHaveLength(1);
    }
    expect(JSON.parse(sink.received.get(live[0]!)![0]!)).toMatchObject({
      type: 'message',
      text: 'hello everyone',
      online: 2500,
    });
    const [ack] = (sink.received.get(sender) ?? []).map((f) => JSON.parse(f) as Record<string, unknown>);
    expect(ack).toMatchObject({ type: 'ack', delivered: live.length, failed: 0, online: live.length + 1 });
    // Gone members leave the room at once; their records wait for the sweep (see registry.leave).
    const members = new Set(local.cos.keys(BUCKET, 'app/room/lobby/'));
    expect(members.size).toBe(2500 - goneIds.length);
    for (const id of goneIds) expect(members.has(`app/room/lobby/${encodeConnectionId(id)}`)).toBe(false);
  }, 120_000);

  it('cleanup removes the connection’s objects and tells the room', async () => {
    const config = loadConfig({ ...local.env, PUSH_URL: sink.url });
    const registry = createCosRegistry(createObjectStore(config.cos));
    await registry.add({ id: 'leaver=', room: 'quiet', nick: 'leaver', connectedAt: 0 });
    await registry.add({ id: 'stayer=', room: 'quiet', nick: 'stayer', connectedAt: 0 });
    const cleanup = createCleanupHandler(() => createContainer(config, silentLogger));
    expect(await cleanup(buildCloseEvent('leaver='), {})).toEqual({ errNo: 0, errMsg: 'ok' });
    expect(await cleanup(buildCloseEvent('leaver='), {})).toEqual({ errNo: 0, errMsg: 'ok' }); // twice is fine
    // The record and the membership are gone; the room's log keeps the leave (for other containers' rosters).
    expect(local.cos.keys(BUCKET).filter((k) => k.includes('leaver') && !k.includes('/rlog/'))).toEqual([]);
    const [presence] = (sink.received.get('stayer=') ?? []).map(
      (f) => JSON.parse(f) as Record<string, unknown>,
    );
    expect(presence).toMatchObject({ type: 'presence', event: 'leave', nick: 'leaver', online: 1 });
  });
});
