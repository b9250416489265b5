import type { IncomingMessage } from 'http';
import {
  describePush,
  formatEvent,
  parseSendBody,
  queryProtocols,
  signSendCredential,
  verifySendCredential,
} from '../../../code/gateway/sse-wire';

const SECRET = 'a-gateway-secret-of-thirty-two-chars!';
const req = (contentType?: string) =>
  ({ headers: contentType ? { 'content-type': contentType } : {} }) as IncomingMessage;

describe('SSE pieces', () => {
  it('writes every line of the data as its own data field, so no text can end an event early', () => {
    expect(formatEvent('text', 'a\nb\r\nc\rd\n\nevent: forged', 'x1')).toBe(
      'event: text\nid: x1\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: event: forged\n\n',
    );
  });

  it('types events by envelope and gives ids only to messages and history', () => {
    expect(describePush('{"v":1,"type":"message","id":"m1","text":"hi"}')).toEqual({
      type: 'message',
      id: 'm1',
    });
    expect(describePush('{"v":1,"type":"history","ref":"r","messages":[{"id":"m1"},{"id":"m2"}]}')).toEqual({
      type: 'history',
      ref: 'r',
      id: 'm2',
    });
    expect(describePush('{"v":1,"type":"history","messages":[]}').id).toBeUndefined();
    expect(describePush('{"v":1,"type":"ack","id":"m3","ref":"a"}')).toEqual({ type: 'ack', ref: 'a' });
    expect(describePush('{"type":"message","id":"bad\\nid"}').id).toBeUndefined();
    expect(describePush('{"type":"Evil Type"}').type).toBe('text');
    expect(describePush('plain words').type).toBe('text');
  });

  it('binds a credential to its connection and expiry', () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const credential = signSendCredential(SECRET, 'n1+abc/def==', exp);
    expect(verifySendCredential(SECRET, credential)).toEqual({
      ok: true,
      connectionId: 'n1+abc/def==',
      expiresAt: exp,
    });
    expect(verifySendCredential('another-secret-another-secret-xxxx', credential)).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySendCredential(SECRET, credential, (exp + 1) * 1000)).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    const [, , mac] = credential.split('.');
    const other = Buffer.from('n1+other').toString('base64url');
    expect(verifySendCredential(SECRET, `${other}.${exp}.${mac}`)).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySendCredential(SECRET, 'x.y.z')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('maps the query to the sub-protocols register reads', () => {
    expect(queryProtocols(new URLSearchParams('room=dev&nick=小明&token=a.b'))).toEqual([
      'wschat.v1',
      'room.dev',
      `nick.${Buffer.from('小明').toString('base64url')}`,
      'token.a.b',
    ]);
    expect(queryProtocols(new URLSearchParams())).toEqual(['wschat.v1']);
    expect(typeof queryProtocols(new URLSearchParams('room=a,token.forged'))).toBe('string');
    expect(typeof queryProtocols(new URLSearchParams('token=a b'))).toBe('string');
    // The identity key, as `key.<key>` (register checks its shape; a comma could forge another entry).
    const key = 'k'.repeat(22);
    expect(queryProtocols(new URLSearchParams(`key=${key}`))).toEqual(['wschat.v1', `key.${key}`]);
    expect(queryProtocols(new URLSearchParams('key=a,room.other'))).toBe('key is malformed');
  });

  it('reads JSON, forms and plain text bodies as frames', () => {
    expect(
      parseSendBody(req('application/json'), Buffer.from('{"type":"ping","credential":"c"}')),
    ).toMatchObject({
      credential: 'c',
      command: { type: 'ping' },
    });
    expect(
      parseSendBody(req('application/x-www-form-urlencoded'), Buffer.from('text=hi+there&credential=c')),
    ).toMatchObject({
      credential: 'c',
      command: { type: 'message', text: 'hi there' },
    });
    expect(typeof parseSendBody(req('application/x-www-form-urlencoded'), Buffer.from('nothing=1'))).toBe(
      'string',
    );
    expect(typeof parseSendBody(req('application/json'), Buffer.from('[1]'))).toBe('string');
    expect(parseSendBody(req('text/plain'), Buffer.from('just words'))).toMatchObject({
      command: { type: 'message', text: 'just words' },
    });
  });
});
