import net from 'net';
import http from 'http';
import { SIGNATURE_HEADER, signBody } from '../../code/util/signature';

/** Raw HTTP for hostile requests: bytes on a socket, the status line back (or how the socket ended). */
export function rawRequest(port: number, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer ? answer.split('\r\n')[0]! : 'timeout');
    }, timeoutMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      // The status line is the answer; a keep-alive socket need not be waited out.
      if (answer.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer ? answer.split('\r\n')[0]! : 'closed');
    });
    socket.write(request);
  });
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

export interface Answer {
  status: number;
  body: string;
}

export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A push as a function sends it: Tencent's body, signed with the gateway secret. */
export function signedPush(pushUrl: string, secret: string, body: unknown, sign = true): Promise<Answer> {
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (sign) headers[SIGNATURE_HEADER] = signBody(secret, 'push', payload);
  return request(pushUrl, { method: 'POST', headers, body: payload });
}

export function pushText(connectionId: string, data: string) {
  return { websocket: { action: 'data send', secConnectionID: connectionId, dataType: 'text', data } };
}
