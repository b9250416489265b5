import { randomBytes } from 'crypto';
import path from 'path';
import type { LocalStack } from '../local/stack';
import type { CosOperation } from '../local/cos-server';
import type { ConnectionRegistry } from '../../code/registry/registry';
import { roomPrefix } from '../../code/registry/keys';
import { buildFrameEvent } from '../../code/tencent/gateway';
import { mapBounded } from '../../code/util/map-bounded';
import { RunnerChild } from './child';
import type { MemoryPeak } from './runner-protocol';

/**
 * One transport invocation fanning out to N recipients, measured in a child process running the real bundle,
 * next to a ceiling (bare keep-alive http.request, same requests in flight) and the seed's algorithm.
 * Every recipient and every sender is a virtual connection of the gateway, so a push to it is counted.
 */

export interface FanoutContext {
  stack: LocalStack;
  registry: ConnectionRegistry;
  /** dist/tools/bench-runner.js */
  runner: string;
  /** The bundle the transport runs, normally dist/functions/transport/index.js. */
  transportBundle: string;
  keyPrefix: string;
  /** PUSH_CONCURRENCY as the functions read it. */
  concurrency: number;
}

export interface RoomFixture {
  room: string;
  sender: string;
  recipients: string[];
}

export interface ChildFigures {
  requireMs?: number;
  rssAfterRequire?: number;
  /** Peak RSS of the child over its whole life, after the measured work. */
  maxRss: number;
  heapUsedAfter: number;
}

export interface TransportRun extends ChildFigures, Invocation {
  n: number;
  mode: 'cold' | 'warm';
  /** CPU other processes on the machine used meanwhile, in cores (see cpu-monitor.ts). */
  foreignCores?: number;
  /** The same sender's next broadcast in the same child, when asked for. */
  hot?: Invocation;
  /** What the function logged about the broadcast (its `message` event), e.g. "delivered 1000 gone 0 failed 0". */
  logged?: string;
}

export interface CeilingRun {
  n: number;
  foreignCores?: number;
  ms: number;
  cpuMs: number;
  delivered: number;
  failed: number;
}

export interface BaselineRun {
  n: number;
  foreignCores?: number;
  ms: number;
  cpuMs: number;
  listed: number;
  pushed: number;
  delivered: number;
  capped: boolean;
}

/** A representative broadcast frame (the size of a short chat message envelope). */
export const SAMPLE_FRAME = JSON.stringify({
  v: 1,
  type: 'message',
  id: 'm0000000000a1b2c3d4e5',
  room: 'fanout',
  from: 'bench',
  tag: 'abcd',
  text: 'bench fan-out',
  ts: 1700000000000,
  online: 10001,
});

const newId = () => randomBytes(24).toString('base64');

export async function createRoom(ctx: FanoutContext, room: string): Promise<RoomFixture> {
  const fixture: RoomFixture = { room, sender: newId(), recipients: [] };
  ctx.stack.gateway.addVirtualConnections([fixture.sender]);
  await ctx.registry.add({ id: fixture.sender, room, nick: 'sender', connectedAt: Date.now() });
  return fixture;
}

/** Everyone in the room, the sender first: what a broadcast lists and pushes to. */
function roomMembers(fixture: RoomFixture): string[] {
  return [fixture.sender, ...fixture.recipients];
}

/** Registers recipients until the room has `n` besides the sender. */
export async function growRoom(ctx: FanoutContext, fixture: RoomFixture, n: number): Promise<void> {
  const added = Array.from({ length: Math.max(0, n - fixture.recipients.length) }, newId);
  ctx.stack.gateway.addVirtualConnections(added);
  const base = fixture.recipients.length;
  await mapBounded(
    added.map((id, i) => ({ id, i })),
    32,
    ({ id, i }) =>
      ctx.registry.add({ id, room: fixture.room, nick: `r${base + i}`, connectedAt: Date.now() }),
  );
  fixture.recipients.push(...added);
}

function messageEvent(sender: string, text: string): unknown {
  return buildFrameEvent(sender, 'text', JSON.stringify({ type: 'message', text, ref: 'bench' }));
}

function cosDelta(before: Record<CosOperation, number>, after: Record<CosOperation, number>) {
  const delta = { ...after };
  for (const op of Object.keys(delta) as CosOperation[]) delta[op] -= before[op];
  return delta;
}

/** One measured broadcast: the invocation's own figures and what the stack counted meanwhile. */
export interface Invocation {
  ms: number;
  cpuMs: number;
  /** Pushes the gateway counted as delivered to virtual connections (the N − 1 others + the sender's ack). */
  delivered: number;
  unknown: number;
  cos: Record<CosOperation, number>;
  cosTotal: number;
  result: unknown;
  /** Peaks of process.memoryUsage() during the invocation. */
  peak: MemoryPeak;
}

export interface TransportOptions {
  /** After the measured broadcast, the same sender broadcasts again in the same process ("hot"). */
  repeat?: boolean;
  /** Write a CPU profile of the measured invocation here. */
  profileFile?: string;
  /** Extra node flags for the child, e.g. a heap limit. */
  execArgv?: string[];
}

function parseLog(lines: string[], room: string): string | undefined {
  return lines
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry?.event === 'message' && entry.room === room)
    .map((e) => `delivered ${String(e!.delivered)} gone ${String(e!.gone)} failed ${String(e!.failed)}`)
    .pop();
}

async function measureInvocation(
  ctx: FanoutContext,
  child: RunnerChild,
  event: unknown,
  profileFile?: string,
): Promise<Invocation> {
  const { gateway, cos } = ctx.stack;
  gateway.resetPushStats();
  const cosBefore = cos.stats();
  const invoked = await child.request({ op: 'invoke', event, profileFile }, 'invoked');
  const cosCounts = cosDelta(cosBefore, cos.stats());
  const pushes = gateway.pushStats();
  if (invoked.error) throw new Error(`transport threw: ${invoked.error}`);
  return {
    ms: invoked.ms,
    cpuMs: invoked.invocationCpuMs,
    delivered: pushes.virtual,
    unknown: pushes.unknown,
    cos: cosCounts,
    cosTotal: Object.values(cosCounts).reduce((a, b) => a + b, 0),
    result: invoked.result,
    peak: invoked.peak,
  };
}

/**
 * Cold: a new child whose first invocation is the broadcast (config, SDK clients and TCP connections included).
 * Warm: a new child that first handles one message in a one-member room, then the broadcast.
 * Hot (with `repeat`): the same sender's next broadcast in that child, JIT-warm, sockets open, sender known.
 */
export async function runTransport(
  ctx: FanoutContext,
  fixture: RoomFixture,
  warmup: RoomFixture,
  mode: 'cold' | 'warm',
  options: TransportOptions = {},
): Promise<TransportRun> {
  const n = roomMembers(fixture).length;
  const { child } = await RunnerChild.start(ctx.runner, ctx.stack.env, options.execArgv);
  try {
    const ready = await child.request({ op: 'load', bundle: ctx.transportBundle }, 'ready');
    if (mode === 'warm')
      await child.request({ op: 'invoke', event: messageEvent(warmup.sender, 'warm') }, 'invoked');
    const first = await measureInvocation(
      ctx,
      child,
      messageEvent(fixture.sender, 'hello'),
      options.profileFile,
    );
    const hot = options.repeat
      ? await measureInvocation(ctx, child, messageEvent(fixture.sender, 'again'))
      : undefined;
    const last = await child.close();
    return {
      n,
      mode,
      ...first,
      hot,
      logged: parseLog(child.logLines, fixture.room),
      requireMs: ready.requireMs,
      rssAfterRequire: ready.rss,
      maxRss: last.maxRss,
      heapUsedAfter: last.heapUsed,
    };
  } finally {
    child.kill();
  }
}

/** The ceiling: the same N pushes (plus nothing else) from a bare keep-alive client, warmed by one push. */
export async function runCeiling(
  ctx: FanoutContext,
  fixture: RoomFixture,
  warmup: RoomFixture,
): Promise<CeilingRun> {
  const { child } = await RunnerChild.start(ctx.runner, ctx.stack.env);
  try {
    const url = ctx.stack.pushUrl;
    await child.request(
      {
        op: 'ceiling',
        target: { url, ids: [warmup.sender], data: SAMPLE_FRAME },
        concurrency: ctx.concurrency,
      },
      'pushed',
    );
    ctx.stack.gateway.resetPushStats();
    const run = await child.request(
      {
        op: 'ceiling',
        target: { url, ids: roomMembers(fixture), data: SAMPLE_FRAME },
        concurrency: ctx.concurrency,
      },
      'pushed',
    );
    return {
      n: roomMembers(fixture).length,
      ms: run.ms,
      cpuMs: run.invocationCpuMs,
      delivered: ctx.stack.gateway.pushStats().virtual,
      failed: run.failed,
    };
  } finally {
    child.kill();
  }
}

export async function runBaseline(
  ctx: FanoutContext,
  fixture: RoomFixture,
  capMs: number,
): Promise<BaselineRun> {
  const { child } = await RunnerChild.start(ctx.runner, ctx.stack.env);
  try {
    ctx.stack.gateway.resetPushStats();
    const run = await child.request(
      {
        op: 'baseline',
        cos: {
          endpoint: ctx.stack.cosEndpoint,
          bucket: ctx.stack.bucket,
          region: ctx.stack.env.COS_REGION ?? 'ap-guangzhou',
          prefix: ctx.keyPrefix + roomPrefix(fixture.room),
        },
        senderId: fixture.sender,
        url: ctx.stack.pushUrl,
        data: SAMPLE_FRAME,
        capMs,
      },
      'baselined',
    );
    return {
      n: roomMembers(fixture).length,
      ms: run.ms,
      cpuMs: run.invocationCpuMs,
      listed: run.listed,
      pushed: run.pushed,
      delivered: ctx.stack.gateway.pushStats().virtual,
      capped: run.capped,
    };
  } finally {
    child.kill();
  }
}

export function bundlePath(functionsDir: string, name: string): string {
  return path.join(functionsDir, name, 'index.js');
}
