import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { oidcPayloadRepository } from './oidc-payloads.ts';

/** What signing an account out removed, by kind (for the audit trail and the operator). */
export interface Revoked {
  sessions: number;
  grants: number;
  /** Codes, access and refresh tokens, and the provider's other per-account rows. */
  tokens: number;
  /** Logins in progress (past the password step), with their codes. */
  logins: number;
}

/**
 * Ends an account's sessions, grants, tokens and logins in progress, in one transaction. A login in
 * progress goes too: one that passed the password before a password change, a disable or a new
 * number must not finish with what it proved then. Its SMS codes go with it (they cascade).
 */
export function accountRevocation(db: Db) {
  async function revoke(runner: Db, accountId: string, keepSessionUid: string | undefined): Promise<Revoked> {
    // The cut-off first: a row a request read before this and writes back after it is not served
    // again (oidc-payloads.ts), and a login in progress from before it cannot be handed over
    // (login-flows.ts). A kept session counts as issued just after it.
    await runner.updateTable('accounts').set({ signed_out_at: sql`now()` as never }).where('id', '=', accountId).execute();
    if (keepSessionUid !== undefined) {
      await runner.updateTable('oidc_payloads').set({ issued_at: sql`now() + interval '1 microsecond'` as never })
        .where('model', '=', 'Session').where('uid', '=', keepSessionUid).where('account_id', '=', accountId).execute();
    }
    const models = await oidcPayloadRepository(runner).revokeAccount(accountId, keepSessionUid);
    const flows = await runner.deleteFrom('login_flows').where('account_id', '=', accountId).executeTakeFirst();
    const count = (match: (model: string) => boolean) => models.filter(match).length;
    return {
      sessions: count((m) => m === 'Session'),
      grants: count((m) => m === 'Grant'),
      tokens: count((m) => m !== 'Session' && m !== 'Grant' && m !== 'Interaction'),
      logins: Number(flows.numDeletedRows),
    };
  }

  return {
    /** Everything of the account but the browser session `keepSessionUid` names, if given. */
    revoke(accountId: string, options: { keepSessionUid?: string } = {}): Promise<Revoked> {
      if (db.isTransaction) return revoke(db, accountId, options.keepSessionUid);
      return db.transaction().execute((trx) => revoke(trx, accountId, options.keepSessionUid));
    },
  };
}
