import WebSocket from 'ws';
import { connectProtocols } from '../../../code/chat/protocol';
import { startLocalStack, type LocalStack } from '../../../scripts/local/stack';
import { eventually } from '../../helpers/ws-client';

/**
 * WebSocket heartbeats: every connection is pinged once per GATEWAY_PING_SECONDS (in slices of the table, so that a
 * beat never holds the event loop), and a peer that did not answer the last ping is dropped.
 */
describe('gateway heartbeats', () => {
  let stack: LocalStack;
  const log: string[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      log: (line) => log.push(line),
      gatewayEnv: { GATEWAY_PING_SECONDS: '1' },
    });
  });
  afterAll(() => stack.close());

  const open = (nick: string, options: WebSocket.ClientOptions = {}) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(stack.wsUrl, connectProtocols({ nick }), options);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
  const nextPing = (socket: WebSocket) =>
    new Promise<void>((resolve) => socket.once('ping', () => resolve()));

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const answering = await open('answers');
    const silent = await open('silent', { autoPong: false });
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    const silentPinged = nextPing(silent);
    const answeringPinged = nextPing(answering);
    try {
      await silentPinged;
      await silentClosed;
      // The gateway's side of the drop: its close, with the cause.
      await eventually(
        () => log.some((line) => /close .*cause=no-pong/.test(line)),
        5000,
        'the no-pong close',
      );
      // The answering one outlives it: pinged, pinged again, still open.
      await answeringPinged;
      await nextPing(answering);
      expect(answering.readyState).toBe(WebSocket.OPEN);
      expect(stack.gateway.connectionIds()).toHaveLength(1);
    } finally {
      answering.terminate();
      silent.terminate();
    }
  });
});
