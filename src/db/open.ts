import { createDb, type Db, type DbTimeouts } from './connection.ts';

export interface OpenDatabase {
  db: Db;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** The configured database, or the embedded one when no DATABASE_URL is set. */
export interface DatabaseSettings {
  databaseUrl?: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  database: DbTimeouts;
}

export async function openDatabase(config: DatabaseSettings, maxConnections?: number): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    const db = createDb(config.databaseUrl, maxConnections, config.database);
    return { db, url: config.databaseUrl, embedded: false, close: () => db.destroy() };
  }
  const server = await (await embeddedPostgres()).openEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort);
  const db = createDb(server.url, maxConnections, config.database);
  return {
    db,
    url: server.url,
    embedded: true,
    close: async () => {
      await db.destroy();
      await server.stop();
    },
  };
}

/**
 * Loaded only when it is used: the production image leaves the embedded Postgres (and its
 * binaries) out, and names its database with DATABASE_URL.
 */
async function embeddedPostgres(): Promise<typeof import('./embedded.ts')> {
  try {
    return await import('./embedded.ts');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error('no database: DATABASE_URL is not set, and the embedded Postgres is not installed here (the production image leaves it out)', { cause: err });
  }
}
