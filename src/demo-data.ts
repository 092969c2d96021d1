import type { Config } from './config/schema.ts';
import type { Db } from './db/connection.ts';
import { createArgon2Hasher } from './login/passwords.ts';
import { accountRepository } from './repositories/accounts.ts';
import { clientRepository } from './repositories/clients.ts';

export const DEMO_CLIENT_ID = 'keystep-demo';
export const DEMO_USERNAME = 'demo';
// Development only (start-up refuses demo data in production); printed at every start.
export const DEMO_PASSWORD = 'correct-horse-keystep';
const DEMO_PHONE = '+447400123456';

/** The demo relying party and user, created once. */
export async function ensureDemoData(db: Db, config: Config): Promise<{ created: boolean }> {
  const clients = clientRepository(db);
  const accounts = accountRepository(db);
  let created = false;
  if (!(await clients.find(DEMO_CLIENT_ID))) {
    await clients.insert({
      clientId: DEMO_CLIENT_ID,
      metadata: {
        client_name: 'Keystep demo app',
        redirect_uris: [`${config.issuer}/demo/callback`],
        post_logout_redirect_uris: [`${config.issuer}/demo`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      consentRequired: false,
      mfa: null,
    });
    created = true;
  }
  if (!(await accounts.findByUsername(DEMO_USERNAME))) {
    const account = await accounts.create({ username: DEMO_USERNAME, passwordHash: await createArgon2Hasher().hash(DEMO_PASSWORD) });
    await accounts.setPhone(account.id, DEMO_PHONE, new Date());
    created = true;
  }
  return { created };
}
