import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedPostgres } from '../../src/db/embedded.ts';
import { scratchDir, withCluster } from '../support/clusters.ts';
import { freePort } from '../support/ports.ts';

/** Where a connection to the URL arrives: null over a Unix socket, the server's address over TCP. */
async function serverAddress(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ addr: string | null }>('select host(inet_server_addr()) as addr')).rows[0]!.addr;
  } finally {
    await client.end();
  }
}

// Each test starts a Postgres of its own on a copy of an initialised one (keystep serve's test
// initialises one from nothing).
describe('the embedded Postgres', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = scratchDir('keystep-pg-');
    dirs.push(dir);
    return dir;
  };
  afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

  it('is reached over a Unix socket in its data directory, also by a second process on it', async () => {
    const dataDir = withCluster(scratch());
    const server = await openEmbeddedPostgres(dataDir, await freePort());
    try {
      expect(new URL(server.url).searchParams.get('host')).toBe(path.join(dataDir, 'postgres'));
      expect(await serverAddress(server.url)).toBeNull();
      const shared = await openEmbeddedPostgres(dataDir, await freePort());
      expect(shared.owned).toBe(false);
      expect(shared.url).toBe(server.url);
    } finally {
      await server.stop();
    }
  });

  it('says what Postgres said when it cannot start, such as a port already taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      await expect(openEmbeddedPostgres(withCluster(scratch()), port)).rejects.toThrow(new RegExp(`stopped while starting on port ${port}:[\\s\\S]*Address already in use`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it.each([
    ['too long for a socket', 'a-directory-name-long-enough-to-push-the-socket-path-past-the-limit-of-unix-sockets'],
    ['read by Postgres as a list', 'keystep,prod'],
  ])('falls back to 127.0.0.1 when the data directory\'s path is %s', async (_why, name) => {
    const dataDir = withCluster(path.join(scratch(), name));
    const server = await openEmbeddedPostgres(dataDir, await freePort());
    try {
      expect(new URL(server.url).searchParams.get('host')).toBeNull();
      expect(await serverAddress(server.url)).toBe('127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});
