import { createHmac, timingSafeEqual } from 'crypto';

/**
 * Request signatures between the gateway and the functions, both ways:
 *   - `push`: a function's push to the gateway's push listener;
 *   - `invoke`: the gateway's call to a function URL (which Tencent leaves open with AuthType NONE).
 * One shared secret (GATEWAY_SECRET); the purpose is part of what is signed, so a captured push cannot be replayed
 * as an invocation or the other way round. The timestamp bounds replays to the window.
 *
 * Header: `X-Wschat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<purpose>\n<t>\n<body>")>`.
 */

export const SIGNATURE_HEADER = 'x-wschat-signature';
export type SignaturePurpose = 'push' | 'invoke';
export const SIGNATURE_WINDOW_SECONDS = 300;

function mac(secret: string, purpose: SignaturePurpose, timestamp: number, body: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${purpose}\n${timestamp}\n`).update(body).digest();
}

export function signBody(
  secret: string,
  purpose: SignaturePurpose,
  body: string | Buffer,
  nowMs: number = Date.now(),
): string {
  const timestamp = Math.floor(nowMs / 1000);
  return `t=${timestamp},v1=${mac(secret, purpose, timestamp, body).toString('hex')}`;
}

export type SignatureCheck =
  { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

const HEADER_FORMAT = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

export function verifyBody(
  secret: string,
  purpose: SignaturePurpose,
  body: string | Buffer,
  header: string | undefined,
  nowMs: number = Date.now(),
): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  const match = HEADER_FORMAT.exec(header);
  if (!match) return { ok: false, reason: 'malformed' };
  const timestamp = Number(match[1]);
  if (Math.abs(nowMs / 1000 - timestamp) > SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'expired' };
  const expected = mac(secret, purpose, timestamp, body);
  const given = Buffer.from(match[2]!, 'hex');
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
