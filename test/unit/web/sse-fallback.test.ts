import { connectProtocols } from '../../../code/chat/protocol';
import { eventsUrlFor } from '../../../web/config';
import { sseQuery } from '../../../code/client/sse-query';

describe('the web page’s HTTP fallback', () => {
  it.each([
    ['ws://127.0.0.1:3000/ws', 'http://127.0.0.1:3000/events'],
    ['wss://chat.example.com/ws?x=1', 'https://chat.example.com/events'],
    ['wss://chat.example.com/prefix/ws/', 'https://chat.example.com/prefix/events'],
    ['wss://service-abc.gz.apigw.tencentcs.com/release/chat', undefined],
    ['not a url', undefined],
  ])('finds the /events URL of %s', (ws, events) => {
    expect(eventsUrlFor(ws)).toBe(events);
  });

  it('carries the same connect options as the sub-protocols, the nick in plain text', () => {
    const query = sseQuery(connectProtocols({ room: 'dev', nick: '小明 Zoë' }));
    expect(query.get('room')).toBe('dev');
    expect(query.get('nick')).toBe('小明 Zoë');
    expect(sseQuery(connectProtocols({ token: 'a.b.c' })).get('token')).toBe('a.b.c');
    // The session sends its own join, with its cursor: the gateway is told not to join for it.
    expect(query.get('join')).toBe('self');
  });
});
