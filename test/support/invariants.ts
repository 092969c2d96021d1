import { sql } from 'kysely';
import type { Db } from '../../src/db/connection.ts';
import { factorModules } from '../../src/login/registry.ts';

/** The steps of Keystep's login chain (every factor of the registry): nothing else may be recorded as passed. */
const CHAIN_STEPS = new Set(factorModules.map((m) => m.id));

/** The amr value each successful step event proves (a backup code counts as the second factor). */
const FACTOR_OF_EVENT: Record<string, string> = {
  'login.password': 'pwd',
  'login.sms_otp': 'sms',
  'phone.verified': 'sms',
  'login.backup_code': 'mfa',
};

const amrOf = (detail: unknown): string[] => {
  const amr = (detail as { amr?: unknown } | null)?.amr;
  return Array.isArray(amr) ? amr.filter((v): v is string => typeof v === 'string') : [];
};

/**
 * What must hold in the tables whatever requests came before, once they have all ended: no
 * account without its hash, every completed login with the factors it passed, no SMS left
 * reserved, no login progress outside the chain, no code without its login. Returns every
 * violation found, each as one line naming the row.
 */
export async function tableViolations(db: Db): Promise<string[]> {
  const violations: string[] = [];

  const hashless = await db.selectFrom('accounts').select(['id', 'username'])
    .where((eb) => eb.or([eb('password_hash', 'is', null), eb('password_hash', 'not like', '$argon2id$%')])).execute();
  for (const a of hashless) violations.push(`account ${a.id} (${JSON.stringify(a.username)}) has no password hash`);

  const completed = await db.selectFrom('auth_events as e')
    .leftJoin('accounts as a', 'a.id', 'e.account_id')
    .select(['e.id', 'e.at', 'e.flow_uid', 'e.account_id', 'e.detail', 'a.phone_verified_at', 'a.sms_otp_exempt'])
    .where('e.event', '=', 'login.completed').execute();
  const steps = await db.selectFrom('auth_events').select(['event', 'flow_uid', 'account_id'])
    .where('event', 'in', Object.keys(FACTOR_OF_EVENT)).where('result', '=', 'success').where('flow_uid', 'is not', null).execute();
  for (const login of completed) {
    const amr = amrOf(login.detail);
    const where = `login.completed ${login.id} (flow ${login.flow_uid})`;
    if (!login.account_id) violations.push(`${where} names no account`);
    const passed = steps.filter((s) => s.flow_uid === login.flow_uid && s.account_id === login.account_id);
    if (!passed.some((s) => s.event === 'login.password')) violations.push(`${where} has no successful password step`);
    for (const step of passed) {
      const factor = FACTOR_OF_EVENT[step.event]!;
      if (!amr.includes(factor)) violations.push(`${where} passed ${step.event} but its amr ${JSON.stringify(amr)} lacks ${factor}`);
    }
    // An account that had a verified number when it signed in always passes the second factor
    // (only a per-account exemption skips it, and then only with smsOtp.enableByUserClaim).
    const hadPhone = login.phone_verified_at !== null && login.phone_verified_at !== undefined && login.phone_verified_at <= login.at;
    if (hadPhone && login.sms_otp_exempt === false && !amr.includes('sms') && !amr.includes('mfa')) {
      violations.push(`${where} of an account with a verified number has amr ${JSON.stringify(amr)}: no second factor`);
    }
  }

  const reserved = await db.selectFrom('sms_messages').select(['id', 'flow_uid']).where('status', '=', 'reserved').execute();
  for (const r of reserved) violations.push(`sms_messages ${r.id} (flow ${r.flow_uid}) is still reserved`);

  const flows = await db.selectFrom('login_flows').select(['uid', 'passed', 'account_id']).execute();
  for (const flow of flows) {
    const foreign = flow.passed.filter((step) => !CHAIN_STEPS.has(step));
    if (foreign.length) violations.push(`login_flows ${flow.uid} has passed ${JSON.stringify(foreign)}, not steps of the chain`);
    if (flow.passed.length && !flow.account_id) violations.push(`login_flows ${flow.uid} has passed steps but no account`);
  }

  const orphans = await sql<{ flow_uid: string }>`
    select c.flow_uid from otp_challenges c left join login_flows f on f.uid = c.flow_uid where f.uid is null`.execute(db);
  for (const o of orphans.rows) violations.push(`otp_challenges ${o.flow_uid} has no login flow`);

  return violations;
}

/** Fails with every violation of `tableViolations` listed. */
export async function expectTablesConsistent(db: Db): Promise<void> {
  const violations = await tableViolations(db);
  if (violations.length) throw new Error(`table invariants violated:\n${violations.join('\n')}`);
}
