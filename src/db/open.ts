import { createDb, type Db, type DbTimeouts } from './connection.ts';
import { openEmbeddedPostgres } from './embedded.ts';

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
  const server = await openEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort);
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
