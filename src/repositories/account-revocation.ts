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
