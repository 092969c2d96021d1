import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on now, from the system. A random number would fall in the range
 * the system also hands to outgoing connections, and a busy test run then sometimes collides.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
