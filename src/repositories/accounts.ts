import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { prepared } from '../db/prepared.ts';
import type { AccountRow } from '../db/schema.ts';
import type { Account, OtpAttempt } from '../login/ports.ts';
import { accountName, parseAccountName, PRIMARY_DOMAIN, type AccountName } from '../shared/account-name.ts';

export type { Account };

type FactorJson = { id: string; enrolledAt: string; lastUsedAt: string | null };

// The account's factors come with the account, in the same statement.
const factorsOf = sql<FactorJson[]>`coalesce((select json_agg(json_build_object('id', f.factor, 'enrolledAt', f.enrolled_at, 'lastUsedAt', f.last_used_at) order by f.factor)
  from account_factors f where f.account_id = accounts.id), '[]'::json)`.as('factors');

function toAccount(row: AccountRow & { factors: FactorJson[] }): Account {
  return {
    id: row.id,
    domain: row.domain,
    username: row.username,
    passwordHash: row.password_hash,
    phone: row.phone,
    phoneVerifiedAt: row.phone_verified_at,
    smsOtpExempt: row.sms_otp_exempt,
    disabled: row.disabled_at !== null,
    failedOtpCount: row.failed_otp_count,
    otpLockedUntil: row.otp_locked_until,
    signOuts: row.sign_outs,
    createdAt: row.created_at,
    factors: row.factors.map((f) => ({ id: f.id, enrolledAt: new Date(f.enrolledAt), lastUsedAt: f.lastUsedAt === null ? null : new Date(f.lastUsedAt) })),
  };
}

function nameParts(name: string): [string, string] {
  const { domain, username } = parseAccountName(name);
  return [domain, username];
}

export class UsernameTakenError extends Error {}

/**
 * Holds, until the transaction ends, the lock every save of a verified number takes under
 * `smsOtp.phoneUnique` (a number proved at login or on the account page, a just-in-time account's
 * upstream number): a second save of the number waits for the first to commit or roll back. Taken
 * before the check that no other account has the number verified, in the same transaction: under
 * read committed each statement reads what was committed when it began, so the check, which begins
 * once the lock is granted, sees the save that held it. Keyed on a hash of the number: two numbers
 * that share one only wait for each other.
 */
export async function lockVerifiedNumber(tx: Db, phone: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`verified-phone:${phone}`}, 0))`.execute(tx);
}

/** Whether an account other than `except` has the number verified (in the caller's transaction). */
export async function verifiedElsewhere(tx: Db, phone: string, except?: string): Promise<boolean> {
  let query = tx.selectFrom('accounts').select('id').where('phone', '=', phone).where('phone_verified_at', 'is not', null);
  if (except !== undefined) query = query.where('id', '!=', except);
  return (await query.limit(1).executeTakeFirst()) !== undefined;
}

/** Which accounts a listing shows; an absent field does not filter. */
export interface AccountFilter {
  /** Part of the username, any case. */
  search?: string;
  disabled?: boolean;
  hasPhone?: boolean;
}

export function accountRepository(db: Db) {
  // Read several times in every login, so prepared once.
  const byUsername = prepared((p: { domain: string; username: string }) => db.selectFrom('accounts').selectAll().select(factorsOf)
    .where('domain', '=', p.domain).where(sql<boolean>`lower(username) = lower(${p.username})`));
  const byId = prepared((p: { id: string }) => db.selectFrom('accounts').selectAll().select(factorsOf).where('id', '=', p.id));
  // A lock that ran out counts afresh from zero, as the password lock does: the count it left
  // behind (lockAfter) would otherwise lock the account again at the next wrong code.
  const reserveOtp = prepared((p: { id: string; now: Date; lockAfter: number; lockUntil: Date }) => {
    const before = sql<number>`(case when otp_locked_until is not null and otp_locked_until <= ${p.now} then 0 else failed_otp_count end)`;
    return db.updateTable('accounts')
      .set({
        failed_otp_count: sql<number>`${before} + 1`,
        otp_locked_until: sql<Date | null>`case when ${before} + 1 >= ${p.lockAfter} then ${p.lockUntil}::timestamptz else null end`,
      })
      .where('id', '=', p.id)
      .where((eb) => eb.or([eb('otp_locked_until', 'is', null), eb('otp_locked_until', '<=', p.now)]))
      .returning('failed_otp_count');
  });
  return {
    async findByUsername(name: string): Promise<Account | undefined> {
      return this.findInDomain(...nameParts(name));
    },

    async findInDomain(domain: string, username: string): Promise<Account | undefined> {
      const row = (await byUsername(db, { domain, username })).rows[0];
      return row && toAccount(row);
    },

    async findById(id: string): Promise<Account | undefined> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const row = (await byId(db, { id })).rows[0];
      return row && toAccount(row);
    },

    async findIdsByVerifiedPhone(phone: string): Promise<string[]> {
      const rows = await db.selectFrom('accounts').select('id').where('phone', '=', phone).where('phone_verified_at', 'is not', null).execute();
      return rows.map((r) => r.id);
    },

    async create(input: { domain?: string; username: string; passwordHash: string; phone?: string | null }): Promise<Account> {
      const domain = input.domain ?? PRIMARY_DOMAIN;
      const row = await db
        .insertInto('accounts')
        .values({ domain, username: input.username, password_hash: input.passwordHash, phone: input.phone ?? null })
        .onConflict((oc) => oc.expression(sql`domain, lower(username)`).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new UsernameTakenError(`the username ${accountName({ domain, username: input.username })} is taken`);
      return toAccount({ ...row, factors: [] });
    },

    /** Those of the given names that are taken, as `domain/username` lowered (usernames compare as sign-in compares them). */
    async takenNames(names: readonly AccountName[]): Promise<Set<string>> {
      if (!names.length) return new Set();
      const rows = await db.selectFrom('accounts').select(['domain', 'username'])
        .where(sql<boolean>`lower(username) = any(${names.map((n) => n.username.toLowerCase())}::text[])`).execute();
      const wanted = new Set(names.map((n) => `${n.domain}/${n.username.toLowerCase()}`));
      return new Set(rows.map((r) => `${r.domain}/${r.username.toLowerCase()}`).filter((key) => wanted.has(key)));
    },

    async list(filter: AccountFilter = {}): Promise<Account[]> {
      let query = db.selectFrom('accounts').selectAll().select(factorsOf);
      // strpos, not like: a % or _ in the search text is just a character.
      if (filter.search) query = query.where(sql<boolean>`strpos(lower(username), lower(${filter.search})) > 0`);
      if (filter.disabled !== undefined) query = query.where('disabled_at', filter.disabled ? 'is not' : 'is', null);
      if (filter.hasPhone !== undefined) query = query.where('phone', filter.hasPhone ? 'is not' : 'is', null);
      const rows = await query.orderBy('domain').orderBy('username').execute();
      return rows.map(toAccount);
    },

    /**
     * Deletes the account; its factors, codes, logins in progress and the rest that belongs to it go
     * with it (foreign keys cascade), its audit events and SMS log rows stay without it (set null).
     */
    async remove(id: string): Promise<boolean> {
      const result = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async setPasswordHash(id: string, passwordHash: string): Promise<void> {
      await db.updateTable('accounts')
        .set({ password_hash: passwordHash, updated_at: sql<Date>`now()` })
        .where('id', '=', id).execute();
    },

    async replacePasswordHash(id: string, expected: string, next: string): Promise<boolean> {
      const result = await db.updateTable('accounts')
        .set({ password_hash: next, updated_at: sql<Date>`now()` })
        .where('id', '=', id).where('password_hash', '=', expected).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async setPhone(id: string, phone: string | null, verifiedAt: Date | null): Promise<void> {
      await db.updateTable('accounts')
        .set({ phone, phone_verified_at: verifiedAt, updated_at: sql<Date>`now()` })
        .where('id', '=', id).execute();
    },

    async saveVerifiedPhone(id: string, phone: string, verifiedAt: Date, unique: boolean): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        if (unique) {
          await lockVerifiedNumber(tx, phone);
          if (await verifiedElsewhere(tx, phone, id)) return false;
        }
        await tx.updateTable('accounts')
          .set({ phone, phone_verified_at: verifiedAt, updated_at: sql<Date>`now()` })
          .where('id', '=', id).execute();
        return true;
      });
    },

    async setDisabled(id: string, disabled: boolean): Promise<void> {
      await db.updateTable('accounts')
        .set({ disabled_at: disabled ? sql<Date>`now()` : null, updated_at: sql<Date>`now()` })
        .where('id', '=', id).execute();
    },

    async setSmsOtpExempt(id: string, exempt: boolean): Promise<void> {
      await db.updateTable('accounts')
        .set({ sms_otp_exempt: exempt, updated_at: sql<Date>`now()` })
        .where('id', '=', id).execute();
    },

    async reserveOtpAttempt(id: string, now: Date, lockAfter: number, lockUntil: Date): Promise<OtpAttempt> {
      // Counted before the code is compared, in one conditional update: simultaneous guesses across
      // logins wait on the account's row and each sees the count (and lock) of the one before.
      const row = (await reserveOtp(db, { id, now, lockAfter, lockUntil })).rows[0];
      if (row) return { taken: true, failures: row.failed_otp_count };
      const current = (await byId(db, { id })).rows[0];
      return { taken: false, lockedUntil: current?.otp_locked_until ?? lockUntil };
    },

    async clearOtpFailures(id: string): Promise<void> {
      await db.updateTable('accounts')
        .set({ failed_otp_count: 0, otp_locked_until: null })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('failed_otp_count', '>', 0), eb('otp_locked_until', 'is not', null)]))
        .execute();
    },

  };
}
