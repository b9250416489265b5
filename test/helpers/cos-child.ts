import http from 'http';
import type { AddressInfo } from 'net';
import { createCosServer } from '../../scripts/local/cos-server';

/**
 * The local COS server alone in a process, for tests that kill it (`kill -9`) and start it again on the same
 * data directory. argv: <dataDir> <bucket>. Prints `{"port": N}` once it listens.
 */
const [dataDir, bucket] = process.argv.slice(2);
if (!dataDir || !bucket) throw new Error('usage: cos-child <dataDir> <bucket>');
const cos = createCosServer({ dataDir, buckets: [bucket] });
const server = http.createServer((req, res) => {
  if (!cos.handle(req, res)) res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
