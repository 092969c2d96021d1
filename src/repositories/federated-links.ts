import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { FederatedAccounts } from '../login/factors/federated/ports.ts';
import type { Account } from '../login/ports.ts';
import { accountRepository, lockVerifiedNumber, verifiedElsewhere } from './accounts.ts';

/**
 * Upstream identities (provider, subject) linked to local accounts, and the lookups the upstream
 * sign-in makes. A link holds for the issuer it was made at: `issuerOf` says which issuer a
 * provider has now (the config file's or `idp add`'s), and a link of another is not found, so a
 * name pointed at another provider does not hand that provider's subjects the old accounts.
 */
export function federatedLinkRepository(db: Db, issuerOf: (provider: string) => Promise<string | undefined>) {
  const accounts = accountRepository(db);
  const issuer = async (provider: string) => {
    const found = await issuerOf(provider);
    if (!found) throw new Error(`no identity provider ${provider}`);
    return found;
  };
  const linkedId = async (provider: string, subject: string) => {
    const current = await issuerOf(provider);
    if (!current) return undefined;
    return (await db.selectFrom('federated_links').select('account_id').where('provider', '=', provider).where('subject', '=', subject)
      .where('issuer', '=', current).executeTakeFirst())?.account_id;
  };

  const store: FederatedAccounts & {
    link(provider: string, subject: string, accountId: string): Promise<'linked' | 'taken'>;
    unlink(provider: string, subject: string): Promise<boolean>;
    listFor(accountId: string): Promise<{ provider: string; subject: string; issuer: string | null }[]>;
    stampLegacy(providers: readonly { name: string; issuer: string }[]): Promise<void>;
  } = {
    async findLinked(provider, subject): Promise<Account | undefined> {
      const id = await linkedId(provider, subject);
      return id ? accounts.findById(id) : undefined;
    },

    async findInDomain(domain, username) {
      return accounts.findInDomain(domain, username);
    },

    async createLinked({ provider, subject, domain, username, phone: upstreamPhone, phoneUnique }) {
      const at = await issuer(provider);
      // The account and its link together: a just-in-time account is never left unlinked, and of
      // two first sign-ins racing, one makes it.
      return db.transaction().execute(async (tx) => {
        // The upstream's number, as any verified number under phoneUnique: not if another account has it.
        let phone = upstreamPhone;
        if (phone && phoneUnique) {
          await lockVerifiedNumber(tx, phone);
          if (await verifiedElsewhere(tx, phone)) phone = null;
        }
        const row = await tx.insertInto('accounts')
          // No password: a hash no password matches, so this account signs in only through its provider.
          .values({ domain, username, password_hash: '!federated', phone, phone_verified_at: phone ? sql<Date>`now()` : null })
          .onConflict((oc) => oc.expression(sql`domain, lower(username)`).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!row) return undefined;
        const link = await tx.insertInto('federated_links').values({ provider, issuer: at, subject, account_id: row.id })
          .onConflict((oc) => oc.columns(['provider', 'subject']).doNothing()).executeTakeFirst();
        if (link.numInsertedOrUpdatedRows === 0n) throw new LinkRaced();
        return row.id;
      }).then(async (id) => (id ? accounts.findById(id) : undefined)).catch((err: unknown) => {
        if (err instanceof LinkRaced) return undefined;
        throw err;
      });
    },

    async link(provider, subject, accountId) {
      const result = await db.insertInto('federated_links').values({ provider, issuer: await issuer(provider), subject, account_id: accountId })
        .onConflict((oc) => oc.columns(['provider', 'subject']).doNothing()).executeTakeFirst();
      return result.numInsertedOrUpdatedRows === 0n ? 'taken' : 'linked';
    },

    async unlink(provider, subject) {
      const result = await db.deleteFrom('federated_links').where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** Links an older Keystep made, with no issuer: they hold for the issuer each provider has at this start. */
    async stampLegacy(providers) {
      for (const p of providers) {
        await db.updateTable('federated_links').set({ issuer: p.issuer }).where('provider', '=', p.name).where('issuer', 'is', null).execute();
      }
    },

    async listFor(accountId) {
      return db.selectFrom('federated_links').select(['provider', 'subject', 'issuer']).where('account_id', '=', accountId).orderBy('provider').execute();
    },
  };
  return store;
}

class LinkRaced extends Error {}
