import net, { type AddressInfo } from 'net';

/**
 * `count` distinct loopback ports that were free a moment ago, for a child process to listen on. All are held open
 * together before any is released: asked one after another, the kernel may hand the same port out twice (it did:
 * serverless-offline was given one port for two servers and failed with EADDRINUSE).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', resolve);
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}
