import type { Clock } from '../../shared/clock.ts';
import { canonicalBackupCode } from '../backup-codes.ts';
import type { PasswordHasher } from '../passwords.ts';
import type { AccountStore, AuditLog, BackupCodeStore } from '../ports.ts';
import { hasVerifiedPhone, lockedUntil, secondFactorNeeded, secondFactorPassed, type SecondFactorSettings } from '../second-factor.ts';
import type { LoginStep, StepOutcome } from '../types.ts';
import { secondFactorSupport } from './step-support.ts';

export interface BackupCodePolicy extends SecondFactorSettings {
  backupCode: boolean;
  lockoutThreshold: number;
  lockoutSeconds: number;
  showAuthFailureReason: boolean;
}

interface Deps {
  accounts: AccountStore;
  backupCodes: BackupCodeStore;
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  policy: BackupCodePolicy;
}

/** A backup code instead of the SMS code: salted argon2id hashes, each good for one login. */
export function createBackupCodeStep({ accounts, backupCodes, hasher, audit, clock, policy }: Deps): LoginStep {
  const support = secondFactorSupport('backup-code', { accounts, audit, clock, policy });

  /** The id of the unused code that matches, if any. */
  async function findMatch(accountId: string, code: string): Promise<string | undefined> {
    const candidates = await backupCodes.listUnused(accountId);
    const matches = await Promise.all(candidates.map(async (c) => ((await hasher.verify(c.hash, code)) ? c.id : undefined)));
    return matches.find((id) => id !== undefined);
  }

  return {
    id: 'backup-code',

    async appliesTo(state) {
      if (!policy.backupCode || state.data.choice !== 'backup-code') return false;
      if (!state.passed.includes('password') || secondFactorPassed(state)) return false;
      return secondFactorNeeded(await support.accountOf(state), policy, state.policy);
    },

    async show(state) {
      const account = await support.accountOf(state);
      return { view: 'factors/backup-code/code', model: { smsAvailable: hasVerifiedPhone(account) } };
    },

    async submit(state, form): Promise<StepOutcome> {
      if (form.action === 'sms') return { kind: 'switch', to: 'sms-otp' };
      const account = await support.accountOf(state);
      const locked = lockedUntil(account, clock.now());
      if (locked) return support.lockedOutcome(locked, 'BACKUP_CODE_INCORRECT');
      if (!(form.code ?? '').trim()) return { kind: 'retry', message: 'BACKUP_CODE_MISSING' };
      // Taken from the same budget of wrong codes as SMS codes, before any hash is compared.
      const attempt = await support.takeAttempt(account, 'BACKUP_CODE_INCORRECT');
      if ('refused' in attempt) return attempt.refused;
      const code = canonicalBackupCode(form.code ?? '');
      const id = code ? await findMatch(account.id, code) : undefined;
      // Consumed with `used_at is null`: two logins racing with one code cannot both pass.
      if (!id || !(await backupCodes.consume(id))) {
        return (await support.wrongCode(state, attempt.failures, 'login.backup_code', 'BACKUP_CODE_INCORRECT'))
          ?? { kind: 'retry', message: 'BACKUP_CODE_INCORRECT' };
      }
      await support.rightCode(account);
      const left = await backupCodes.countUnused(account.id);
      await support.event(state, 'login.backup_code', 'success', undefined, { left });
      return {
        kind: 'passed',
        accountId: account.id,
        amr: ['mfa'],
        notice: left > 0 ? { message: 'BACKUP_CODES_LEFT', params: { count: left } } : { message: 'BACKUP_CODES_NONE_LEFT' },
      };
    },
  };
}
