import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { seal, unseal } from '../../../shared/keys.ts';
import type { Random } from '../../../shared/random.ts';
import type { AuditLog } from '../../ports.ts';
import { BACKUP_CODE_COUNT, issueBackupCodes } from './codes.ts';
import type { BackupCodeStore } from './ports.ts';

/** The new codes between the request that made them and the one page that shows them: sealed. */
export const shownOnceSlot = z.object({ sealed: z.string().max(4096) });
export type ShownOnce = z.infer<typeof shownOnceSlot>;

export interface BackupCodeAccountDeps {
  backupCodes: BackupCodeStore;
  hasher: { hash(secret: string): Promise<string> };
  audit: AuditLog;
  random: Random;
  /** The per-purpose key that seals codes waiting to be shown once. */
  shownOnceKey: KeyObject;
}

/** The backup-code factor's account-page half: a fresh set, shown once. */
export function backupCodeRenewal(deps: BackupCodeAccountDeps) {
  return {
    /** A fresh set; the old codes stop working at once. Returns them sealed for the one page that shows them. */
    async renew(ctx: { uid: string; clientId: string; ip: string | null }, accountId: string): Promise<ShownOnce> {
      const codes = await issueBackupCodes(deps.backupCodes, deps.hasher, deps.random, accountId);
      await deps.audit.record({ event: 'account.backup_codes_generated', result: 'success', step: 'account', accountId, clientId: ctx.clientId, flowUid: ctx.uid, ip: ctx.ip, detail: { count: BACKUP_CODE_COUNT } });
      return { sealed: seal(deps.shownOnceKey, JSON.stringify(codes), ctx.uid) };
    },

    /** The codes to show, from what `renew` sealed for this change; undefined when it does not open. */
    open(uid: string, shown: ShownOnce): string[] | undefined {
      const text = unseal(deps.shownOnceKey, shown.sealed, uid);
      const codes = text === undefined ? undefined : z.array(z.string().max(16)).max(BACKUP_CODE_COUNT).safeParse(JSON.parse(text));
      return codes?.success ? codes.data : undefined;
    },
  };
}

export type BackupCodeRenewal = ReturnType<typeof backupCodeRenewal>;
