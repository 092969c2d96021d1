import { z } from 'zod';
import type { Clock } from '../../../shared/clock.ts';
import type { AccountNotice } from '../../account-notice.ts';
import type { RemovalGuard } from '../../last-factor.ts';
import type { Account, AccountLock, AuditLog } from '../../ports.ts';
import type { PasskeyCredential, PasskeyStore } from './ports.ts';
import type { WebAuthnRelyingParty } from './webauthn.ts';
import { accountName } from '../../../shared/account-name.ts';

type Ctx = { clientId: string; ip: string | null };

/** A passkey being added: its challenge and the name the user gave it, in the change's flow (used once). */
export const pendingPasskeySlot = z.object({ challenge: z.string().min(16).max(128), name: z.string().min(1).max(64) });
export type PendingPasskey = z.infer<typeof pendingPasskeySlot>;

export type PasskeyAdd = { ok: true } | { ok: false; reason: 'name' | 'failed' };

/** `last`: refused, the account would be left without a second factor it needs. */
export type PasskeyRemoval = 'removed' | 'none' | 'last' | 'busy';

export interface PasskeyAccountDeps {
  passkeys: PasskeyStore;
  audit: AuditLog;
  clock: Clock;
  webauthn: WebAuthnRelyingParty;
  notify: AccountNotice;
  guardRemoval: RemovalGuard;
  lock: AccountLock;
}

/** The passkeys' account-page half: list them, add one (named), remove one. */
export function passkeyEnrolment({ passkeys, audit, clock, webauthn, notify, guardRemoval, lock }: PasskeyAccountDeps) {
  const record = (ctx: Ctx, account: Account, event: string, detail: Record<string, unknown>) =>
    audit.record({ event, result: 'success', step: 'account', accountId: account.id, clientId: ctx.clientId, ip: ctx.ip, detail });

  return {
    list: (accountId: string): Promise<PasskeyCredential[]> => passkeys.list(accountId),

    /** A challenge for a new passkey of this name; nothing about the account changes yet. */
    start(name: string): PendingPasskey | undefined {
      const trimmed = name.trim().replace(/\s+/g, ' ');
      return trimmed && trimmed.length <= 64 ? { challenge: webauthn.challenge(), name: trimmed } : undefined;
    },

    /** What the page's script hands to `navigator.credentials.create`. */
    async options(account: Account, pending: PendingPasskey): Promise<string> {
      return JSON.stringify(await webauthn.registrationOptions({ id: account.id, username: accountName(account) }, await passkeys.list(account.id), pending.challenge));
    },

    /** The browser's answer to the pending challenge (which the caller has already taken out). */
    async finish(ctx: Ctx, account: Account, pending: PendingPasskey, response: string): Promise<PasskeyAdd> {
      const created = response ? await webauthn.verifyRegistration(response, pending.challenge) : undefined;
      if (!created) return { ok: false, reason: 'failed' };
      // Under the account's lock, like a removal: a removal of the last other passkey cannot take
      // the account's note that it has passkeys away from this one.
      const added = await lock(account.id, () => passkeys.add({ ...created, accountId: account.id, name: pending.name, createdAt: clock.now() }));
      if (!added.ran || !added.value) return { ok: false, reason: 'failed' };
      await record(ctx, account, 'account.passkey_added', { backedUp: created.backedUp, deviceType: created.deviceType });
      await notify(ctx, account, 'A passkey was added to your account');
      return { ok: true };
    },

    /** Removes one passkey, unless it is the account's last and the last second factor it needs. */
    async remove(ctx: Ctx, account: Account, id: string): Promise<PasskeyRemoval> {
      const result = await guardRemoval(account.id, async (fresh) => {
        const all = await passkeys.list(fresh.id);
        if (!all.some((p) => p.id === id)) return undefined;
        return all.length > 1 ? fresh : { ...fresh, factors: fresh.factors.filter((f) => f.id !== 'passkey') };
      }, () => passkeys.remove(account.id, id));
      if (result !== 'removed') return result;
      await record(ctx, account, 'account.passkey_removed', {});
      await notify(ctx, account, 'A passkey was removed from your account');
      return 'removed';
    },
  };
}

export type PasskeyEnrolment = ReturnType<typeof passkeyEnrolment>;
