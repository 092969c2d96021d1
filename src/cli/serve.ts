import { createApp } from '../app.ts';
import { loadConfig } from '../config/load.ts';
import { openDatabase } from '../db/open.ts';
import { createLogger } from '../shared/log.ts';
import { ensureMigrated } from './context.ts';
import { DEMO_PASSWORD, DEMO_USERNAME, ensureDemoData } from '../demo-data.ts';
import { gatewayProblems } from '../sms-wiring.ts';

export async function serve(): Promise<void> {
  // The gateway's template is judged with the rest, before anything starts.
  const config = loadConfig(undefined, {}, { smsGateway: gatewayProblems });
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config);
  let stopping = false;
  try {
    await ensureMigrated(database, config, log);
    if (config.demo) await ensureDemoData(database.db, config);
    const app = await createApp({ config, db: database.db, log });
    await app.listen(config.port, config.host);
    if (config.demo) {
      process.stderr.write(`\nKeystep is running at ${config.issuer}\n` +
        `Try a login: open ${config.issuer}/demo and sign in as "${DEMO_USERNAME}" with password "${DEMO_PASSWORD}".\n\n`);
    }
    log.info({ issuer: config.issuer, host: config.host, port: config.port, embeddedDatabase: database.embedded, env: config.env }, 'Keystep is listening');
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      await app.close();
      await database.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  } catch (err) {
    await database.close();
    throw err;
  }
}
