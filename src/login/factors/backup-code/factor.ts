import type { Clock } from '../../../shared/clock.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { Factor, FactorModule, StepOutcome } from '../../factor.ts';
import type { PasswordHasher } from '../../passwords.ts';
import type { AccountStore, AuditLog } from '../../ports.ts';
import { canonicalBackupCode } from './codes.ts';
import { backupCodeInfo, backupCodeMessages, backupCodeTexts } from './messages.ts';
import { backupCodeTranslations } from './translations.ts';
import type { BackupCodeStore } from './ports.ts';

export interface BackupCodeDeps {
  accounts: AccountStore;
  backupCodes: BackupCodeStore;
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  settings: { smsOtp: CodeLockPolicy & { backupCode: boolean } };
}

/**
 * A backup code in place of another second factor: salted argon2id hashes, each good for one
 * login. A fallback: offered beside the account's other factors, never the first pick, and having
 * codes alone does not make a second factor needed. Switched off unless `smsOtp.backupCode`.
 */
export function backupCodeFactor({ accounts, backupCodes, hasher, audit, clock, settings }: BackupCodeDeps): Factor | undefined {
  const policy = settings.smsOtp;
  if (!policy.backupCode) return undefined;
  const lock = codeLock('backup-code', { accounts, audit, clock, policy });

  /** The id of the unused code that matches, if any. */
  async function findMatch(accountId: string, code: string): Promise<string | undefined> {
    const candidates = await backupCodes.listUnused(accountId);
    const matches = await Promise.all(candidates.map(async (c) => ((await hasher.verify(c.hash, code)) ? c.id : undefined)));
    return matches.find((id) => id !== undefined);
  }

  return {
    id: 'backup-code',
    stage: 'second',
    role: 'fallback',
    amr: ['mfa'],
    actions: ['verify'],
    offer: { action: 'backup', label: 'backup-code.offer' },
    // Offered whenever they are switched on: whether the account has unused codes is not told before one is tried.
    enrolled: () => true,

    async show() {
      return { view: 'factors/backup-code/code', model: {} };
    },

    async submit(ctx, form): Promise<StepOutcome> {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedRetry(locked, 'BACKUP_CODE_INCORRECT');
      if (!(form.code ?? '').trim()) return { kind: 'retry', message: 'BACKUP_CODE_MISSING' };
      // Taken from the same budget of wrong codes as SMS codes, before any hash is compared.
      const attempt = await lock.take(account);
      if (!attempt.taken) return lock.lockedRetry(attempt.lockedUntil, 'BACKUP_CODE_INCORRECT');
      const code = canonicalBackupCode(form.code ?? '');
      const id = code ? await findMatch(account.id, code) : undefined;
      // Consumed with `used_at is null`: two logins racing with one code cannot both pass.
      if (!id || !(await backupCodes.consume(id))) {
        const lockedNow = await lock.wrong(ctx, attempt.failures, 'login.backup_code');
        return lockedNow ? lock.lockedRetry(lock.lockEnds(), 'BACKUP_CODE_INCORRECT') : { kind: 'retry', message: 'BACKUP_CODE_INCORRECT' };
      }
      await lock.right(account);
      const left = await backupCodes.countUnused(account.id);
      await lock.event(ctx, 'login.backup_code', 'success', undefined, { left });
      return {
        kind: 'passed',
        account,
        notice: left > 0 ? { message: 'BACKUP_CODES_LEFT', params: { count: left } } : { message: 'BACKUP_CODES_NONE_LEFT' },
      };
    },
  };
}

export const backupCodeModule: FactorModule<BackupCodeDeps> = { id: 'backup-code', signInEvent: { event: 'login.backup_code', label: 'backup-code.name' }, messages: backupCodeMessages, texts: backupCodeTexts, translations: backupCodeTranslations, info: backupCodeInfo, build: backupCodeFactor };
