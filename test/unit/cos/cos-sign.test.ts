import COS from 'cos-nodejs-sdk-v5';
import { createCosSigner, type CosSignInput } from '../../../code/cos/cos-sign';

/**
 * Our signer against the SDK's, on the same inputs at the same instant: the Authorization must be the same string.
 * The inputs reach every rule the SDK applies: which headers it signs (by name, any case, `x-cos-` anywhere in the
 * name), how names and values are encoded and sorted, empty values, and keys and values outside ASCII.
 */

const NOW = Date.parse('2026-12-07T12:00:00.400Z');

function sdkSign(input: CosSignInput): string {
  return COS.getAuthorization({
    SecretId: input.secretId,
    SecretKey: input.secretKey,
    Method: input.method,
    Pathname: input.pathname,
    Query: { ...input.query },
    Headers: { ...input.headers },
    SystemClockOffset: input.nowMs - Date.now(),
    Expires: input.expiresSeconds,
  });
}

const base: CosSignInput = {
  secretId: 'AKIDexample',
  secretKey: 'secret-key',
  method: 'PUT',
  pathname: '/app/conn/abc',
  query: {},
  headers: { Host: 'wschat-1250000000.cos.ap-guangzhou.myqcloud.com', 'Content-Length': '2' },
  nowMs: NOW,
  expiresSeconds: 900,
};

const cases: Array<[string, Partial<CosSignInput>]> = [
  ['a PUT', {}],
  ['a GET without a body', { method: 'GET', headers: { Host: 'h.example' } }],
  [
    'a listing with its query',
    {
      method: 'GET',
      pathname: '/',
      query: { prefix: 'app/room/lobby/', 'max-keys': '1000', marker: 'app/x' },
    },
  ],
  ['a multi-delete (a query name without a value)', { method: 'POST', pathname: '/', query: { delete: '' } }],
  [
    'headers COS signs, in any case, and headers it does not',
    {
      headers: {
        host: 'h.example',
        'Content-Type': 'application/json',
        'CONTENT-MD5': 'abc==',
        'x-cos-forbid-overwrite': 'true',
        'X-Cos-Meta-Note': 'a b/c',
        'my-x-cos-thing': 'signed: the SDK matches x-cos- anywhere',
        'User-Agent': 'not signed',
        Accept: '*/*',
      },
    },
  ],
  [
    'names and values the encoder treats differently',
    {
      pathname: "/app/conn/a+b=c d!'()*é/ü",
      query: { Prefix: "a b!'()*", uploadId: 'é', 'Z-last': '' },
      headers: { Host: 'h', 'x-cos-meta-Ünïcode': "v!'()*", 'Content-Length': '0' },
    },
  ],
  ['a session-less role key and a short expiry', { secretKey: 'k'.repeat(40), expiresSeconds: 60 }],
  ['at .6 of a second (the key time rounds, not truncates)', { nowMs: NOW + 200 }],
];

describe('the COS signer', () => {
  beforeEach(() => {
    // Only Date is frozen, so both sign at the same instant.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: NOW });
  });
  afterEach(() => jest.useRealTimers());

  it.each(cases)('signs %s as the SDK does', (_, change) => {
    const input = { ...base, ...change };
    expect(createCosSigner()(input)).toBe(sdkSign(input));
  });

  it('gives the same answers when its remembered key is reused, and a new key after the second changes', () => {
    const sign = createCosSigner();
    for (const [, change] of cases) {
      const input = { ...base, ...change };
      expect(sign(input)).toBe(sdkSign(input));
    }
    const later = { ...base, nowMs: NOW + 5000 };
    const signed = sign(later);
    expect(signed).toBe(sdkSign(later));
    expect(signed).toMatch(/q-key-time=1796644804;1796645704/);
  });

  it('derives a new key when the secret changes (a role key replaced inside a warm container)', () => {
    const sign = createCosSigner();
    sign(base);
    const rotated = { ...base, secretId: 'AKIDnext', secretKey: 'next-key' };
    expect(sign(rotated)).toBe(sdkSign(rotated));
  });
});
