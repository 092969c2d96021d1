import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createApp, type AppOptions, type KeystepApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { PasswordHasher } from '../../src/login/passwords.ts';
import { accountRepository } from '../../src/repositories/accounts.ts';
import { clientRepository } from '../../src/repositories/clients.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Random } from '../../src/shared/random.ts';
import type { SmsSender } from '../../src/sms/port.ts';
import { createLogger } from '../../src/shared/log.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { cheapHasher } from './hasher.ts';
import { parseAccountName } from '../../src/shared/account-name.ts';

export interface TestApp {
  issuer: string;
  config: Config;
  database: TestDatabase;
  app: KeystepApp;
  logLines: string[];
  hasher: PasswordHasher;
  addUser(username: string, password: string, phone?: string | null): Promise<string>;
  addClient(clientId: string, options?: { secret?: string; consent?: boolean; redirectUris?: string[]; postLogoutRedirectUris?: string[]; publicClient?: boolean; mfa?: 'required' | 'optional' }): Promise<{ clientId: string; clientSecret?: string; redirectUri: string }>;
  close(): Promise<void>;
}

// Every test login comes from 127.0.0.1; the per-address SMS and request limits are tested on their own.
// So are the budgets against SMS pumping: tests reuse a few numbers of one range and rarely enter codes.
const testDefaults = {
  sms: {
    ipSendLimit: 100_000,
    budgets: { perNumber: 10_000, perPrefix: 100_000, perCountry: 1_000_000, perDay: 10_000_000, backoffAfter: 100 },
    pumping: { prefixMinSent: 1_000_000, countryMinSent: 1_000_000 },
  },
  loginRequestLimit: { perAddress: 10_000_000 },
};

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
      ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/signed-out';

/** A real Keystep on a loopback port, against its own fresh database. */
/**
 * `storedKeys: false` starts on a database without the keys a first start stores. `host` names the
 * issuer's host (still served on 127.0.0.1): WebAuthn takes no IP address as relying party id.
 */
export async function startTestApp(options: { host?: 'localhost'; overrides?: Record<string, unknown>; clock?: Clock; random?: Random; database?: TestDatabase; storedKeys?: boolean; hasher?: PasswordHasher; smsSender?: SmsSender; factorModules?: AppOptions['factorModules'] } = {}): Promise<TestApp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  const database = options.database ?? (await createTestDatabase({ storedKeys: options.storedKeys }));
  const config = loadConfig({}, merge({ env: 'test', demo: false, issuer, databaseUrl: database.url, logLevel: 'debug', ...testDefaults }, options.overrides ?? {}));
  const logLines: string[] = [];
  const log = createLogger('debug', new Writable({ write(chunk, _e, done) { logLines.push(String(chunk)); done(); } }) as never);
  const hasher = options.hasher ?? cheapHasher;
  const app = await createApp({ config, db: database.db, log, clock: options.clock, random: options.random, hasher, smsSender: options.smsSender, factorModules: options.factorModules });
  server.on('request', app.callback());

  return {
    issuer,
    config,
    database,
    app,
    logLines,
    hasher,
    async addUser(username, password, phone = null) {
      const accounts = accountRepository(database.db);
      // `domain/username` makes the account in that domain.
      const account = await accounts.create({ ...parseAccountName(username), passwordHash: await hasher.hash(password), phone });
      if (phone) await accounts.setPhone(account.id, phone, new Date());
      return account.id;
    },
    async addClient(clientId, clientOptions = {}) {
      const redirectUris = clientOptions.redirectUris ?? [REDIRECT_URI];
      const secret = clientOptions.publicClient ? undefined : clientOptions.secret ?? `${clientId}-secret-0123456789abcdef`;
      await clientRepository(database.db).insert({
        clientId,
        metadata: {
          redirect_uris: redirectUris,
          post_logout_redirect_uris: clientOptions.postLogoutRedirectUris ?? [POST_LOGOUT_URI],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
          ...(secret ? { client_secret: secret } : {}),
        },
        consentRequired: clientOptions.consent === true,
        mfa: clientOptions.mfa ?? null,
      });
      return { clientId, clientSecret: secret, redirectUri: redirectUris[0]! };
    },
    async close() {
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.database) await database.drop();
    },
  };
}
