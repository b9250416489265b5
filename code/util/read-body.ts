import type { IncomingMessage } from 'http';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`body over ${limit} bytes`);
  }
}

/**
 * Reads a body of at most `limit` bytes. A declared Content-Length above it is refused before reading; a
 * chunked body is cut off at the limit (reading stops, the stream is paused). Rejects with BodyTooLarge, or
 * with the stream's error.
 */
export function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(stream.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.off('data', onData);
        stream.pause();
        chunks.length = 0;
        return reject(new BodyTooLarge(limit));
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('request aborted')));
  });
}
