import type { KeyObject } from 'node:crypto';
import { toString as qrSvg } from 'qrcode';
import { z } from 'zod';
import type { Clock } from '../../../shared/clock.ts';
import type { Random } from '../../../shared/random.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { AccountNotice } from '../../account-notice.ts';
import type { LoginContext } from '../../factor.ts';
import type { RemovalGuard } from '../../last-factor.ts';
import type { Account, AccountStore, AuditLog } from '../../ports.ts';
import type { TotpStore } from './ports.ts';
import { groupedSecret, matchingStep, newTotpSecret, sealPending, sealSecret, totpUri, unsealPending } from './secrets.ts';
import { accountName } from '../../../shared/account-name.ts';

type Ctx = Pick<LoginContext, 'uid' | 'clientId' | 'ip' | 'flow'>;

/** A new secret between the request that made it and the code that confirms it: sealed, in the change's flow. */
export const pendingSecretSlot = z.object({ sealed: z.string().max(1024) });
export type PendingSecret = z.infer<typeof pendingSecretSlot>;

export type TotpConfirm =
  | { ok: true }
  | { ok: false; reason: 'locked' | 'gone' }
  | { ok: false; reason: 'code'; lockedNow: boolean };

export interface TotpAccountDeps {
  accounts: AccountStore;
  totp: TotpStore;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  totpKey: KeyObject;
  /** The issuer the app shows beside the codes. */
  serviceName: string;
  settings: { smsOtp: CodeLockPolicy };
  notify: AccountNotice;
  guardRemoval: RemovalGuard;
}

/** `last`: refused, the account would be left without a second factor it needs. */
export type TotpRemoval = 'removed' | 'none' | 'last' | 'busy';

/** The authenticator app's account-page half: set one up (it counts once one code from it was entered), or remove it. */
export function totpEnrolment(deps: TotpAccountDeps) {
  const { totp, clock, totpKey } = deps;
  const lock = codeLock('account', { accounts: deps.accounts, audit: deps.audit, clock, policy: deps.settings.smsOtp });

  return {
    /** When the account's app was added and last used; undefined when it has none. */
    async status(accountId: string): Promise<{ addedAt: Date; lastUsedAt: Date | null } | undefined> {
      const credential = await totp.find(accountId);
      return credential && { addedAt: credential.createdAt, lastUsedAt: credential.lastUsedAt };
    },

    /** A fresh secret for this change, sealed; nothing about the account changes yet. */
    start(ctx: Ctx, account: Account): PendingSecret {
      return { sealed: sealPending(totpKey, newTotpSecret(deps.random), ctx.uid, account.id) };
    },

    /** What the set-up page shows of a pending secret: the QR code (SVG), the URI and the secret for typing in. */
    async page(ctx: Ctx, account: Account, pending: PendingSecret): Promise<{ qr: string; uri: string; secret: string } | undefined> {
      const secret = unsealPending(totpKey, pending.sealed, ctx.uid, account.id);
      if (secret === undefined) return undefined;
      const uri = totpUri(secret, deps.serviceName, accountName(account));
      return { qr: await qrSvg(uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }), uri, secret: groupedSecret(secret) };
    },

    /** One right code from the app makes the pending secret the account's (replacing an earlier app). */
    async confirm(ctx: Ctx, account: Account, pending: PendingSecret, code: string): Promise<TotpConfirm> {
      if (lock.lockedUntil(account)) return { ok: false, reason: 'locked' };
      const secret = unsealPending(totpKey, pending.sealed, ctx.uid, account.id);
      if (secret === undefined) return { ok: false, reason: 'gone' };
      const attempt = await lock.take(account);
      if (!attempt.taken) return { ok: false, reason: 'locked' };
      const now = clock.now();
      const step = matchingStep(secret, code, now);
      if (step === undefined) return { ok: false, reason: 'code', lockedNow: await lock.wrong(ctx, attempt.failures, 'account.totp_verify') };
      await lock.right(account);
      // The step of this code is taken as used: the code that confirmed the app does not sign in too.
      await totp.save(account.id, sealSecret(totpKey, secret, account.id), step, now);
      await lock.event(ctx, 'account.totp_added', 'success');
      await deps.notify(ctx, account, 'An authenticator app was added to your account');
      return { ok: true };
    },

    /** Removes the account's app, unless it is the last second factor the account needs. */
    async remove(ctx: { clientId: string; ip: string | null }, account: Account): Promise<TotpRemoval> {
      const result = await deps.guardRemoval(account.id, async (fresh) => {
        if (!fresh.factors.some((f) => f.id === 'totp')) return undefined;
        return { ...fresh, factors: fresh.factors.filter((f) => f.id !== 'totp') };
      }, () => totp.remove(account.id));
      if (result !== 'removed') return result;
      await deps.audit.record({ event: 'account.totp_removed', result: 'success', step: 'account', accountId: account.id, clientId: ctx.clientId, ip: ctx.ip });
      await deps.notify(ctx, account, 'The authenticator app was removed from your account');
      return 'removed';
    },

    /** What the page says about a set-up that did not go through. */
    notice(result: TotpConfirm & { ok: false }): { message: string } {
      switch (result.reason) {
        case 'gone': return { message: 'TOTP_SETUP_GONE' };
        case 'locked': return { message: 'OTP_LOCKED_PLAIN' };
        case 'code': return { message: result.lockedNow ? 'OTP_LOCKED_PLAIN' : 'TOTP_INCORRECT' };
      }
    },
  };
}

export type TotpEnrolment = ReturnType<typeof totpEnrolment>;
