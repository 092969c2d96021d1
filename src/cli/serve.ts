import { createApp } from '../app.ts';
import { loadConfig } from '../config/load.ts';
import { openDatabase } from '../db/open.ts';
import { createLogger } from '../shared/log.ts';
import { ensureMigrated, logDestination, type Cli } from './context.ts';
import { DEMO_PASSWORD, DEMO_USERNAME, ensureDemoData } from '../demo-data.ts';
import { gatewayProblems, gatewaysProblems } from '../sms-wiring.ts';

/** Starts the server and hands its stop to the io once it listens. */
export async function serve(cli: Cli): Promise<void> {
  const { io } = cli;
  // The gateway's template is judged with the rest, before anything starts.
  const config = loadConfig(io.env, {}, { smsGateway: gatewayProblems, smsGateways: gatewaysProblems });
  const log = createLogger(config.logLevel, logDestination(io.stdout, 1));
  const database = await openDatabase(config);
  try {
    await ensureMigrated(database, config, log);
    if (config.demo) await ensureDemoData(database.db, config);
    const app = await createApp({ config, db: database.db, log });
    await app.listen(config.port, config.host).catch(async (err: unknown) => {
      await app.close();
      throw err;
    });
    if (config.demo) {
      io.stderr.write(`\nKeystep is running at ${config.issuer}\n` +
        `Try a login: open ${config.issuer}/demo and sign in as "${DEMO_USERNAME}" with password "${DEMO_PASSWORD}".\n\n`);
    }
    log.info({ issuer: config.issuer, host: config.host, port: config.port, embeddedDatabase: database.embedded, env: config.env }, 'Keystep is listening');
    let stopped: Promise<void> | undefined;
    io.serving((signal) => stopped ??= (async () => {
      log.info(signal ? { signal } : {}, 'stopping');
      await app.close();
      await database.close();
    })());
  } catch (err) {
    await database.close();
    throw err;
  }
}
