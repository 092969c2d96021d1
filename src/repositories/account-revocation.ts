import type { AuditLog } from '../login/ports.ts';
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
/**
 * The browser that made the change stays signed in: its session is dated the second after the
 * cut-off (it has just proven both factors to make the change), and so is what it issues from now on.
 */
async function keepSession(runner: Db, accountId: string, uid: string, signedOutAt: Date): Promise<void> {
  const loginTs = Math.floor(signedOutAt.getTime() / 1000) + 1;
  const rows = await runner.selectFrom('oidc_payloads').select(['id', 'payload'])
    .where('model', '=', 'Session').where('uid', '=', uid).where('account_id', '=', accountId).execute();
  for (const row of rows) {
    await runner.updateTable('oidc_payloads')
      .set({ payload: JSON.stringify({ ...row.payload, loginTs }), issued_at: new Date(loginTs * 1000) })
      .where('model', '=', 'Session').where('id', '=', row.id).execute();
  }
}

export function accountRevocation(db: Db) {
  async function revoke(runner: Db, accountId: string, keepSessionUid: string | undefined): Promise<Revoked> {
    // The cut-off first: a row dated in or before this second is not served again, even when a
    // request that read it writes it back (oidc-payloads.ts), and a login whose first factor read
    // the account before this count cannot be handed over (login-flows.ts).
    const cut = await runner.updateTable('accounts').set({ signed_out_at: sql<Date>`now()`, sign_outs: sql`sign_outs + 1` })
      .where('id', '=', accountId).returning('signed_out_at').executeTakeFirst();
    if (keepSessionUid !== undefined && cut?.signed_out_at) await keepSession(runner, accountId, keepSessionUid, cut.signed_out_at);
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

/** Sign-out everywhere as the account page asks for it: the revocation, then its audit record. */
export function signOutEverywhere(db: Db, audit: AuditLog) {
  const revocation = accountRevocation(db);
  return async (accountId: string, cause: 'sign-out-everywhere' | 'phone-changed', keepSessionUid?: string): Promise<void> => {
    const revoked = await revocation.revoke(accountId, { keepSessionUid });
    await audit.record({ event: 'account.signed_out_everywhere', result: 'success', accountId, detail: { cause, keptThisSession: keepSessionUid !== undefined, ...revoked } });
  };
}
