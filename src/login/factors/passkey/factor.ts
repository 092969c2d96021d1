import { z } from 'zod';
import type { Clock } from '../../../shared/clock.ts';
import { codeLock, type CodeLockPolicy } from '../../code-lock.ts';
import type { Factor, FactorModule, StepOutcome } from '../../factor.ts';
import type { AccountStore, AuditLog } from '../../ports.ts';
import { passkeyInfo, passkeyMessages, passkeyTexts } from './messages.ts';
import { passkeyTranslations } from './translations.ts';
import type { PasskeyStore } from './ports.ts';
import type { WebAuthnRelyingParty } from './webauthn.ts';

export interface PasskeyDeps {
  accounts: AccountStore;
  passkeys: PasskeyStore;
  audit: AuditLog;
  clock: Clock;
  webauthn: WebAuthnRelyingParty;
  settings: { smsOtp: CodeLockPolicy };
}

/** The challenge of this login's one pending assertion: taken out by the submit that answers it. */
export const challengeSlot = z.object({ challenge: z.string().min(16).max(128) });
type Challenge = z.infer<typeof challengeSlot>;

/**
 * RFC 8176: `hwk` for a key bound to one authenticator, `swk` for one that is synced (backed up),
 * so it is no longer proof of one device.
 */
export const amrOf = (backedUp: boolean) => [backedUp ? 'swk' : 'hwk'] as const;

/** Both 0: an authenticator that keeps no counter (most synced passkeys). Otherwise it must grow. */
export const counterGrew = (stored: number, reported: number) => (stored === 0 && reported === 0) || reported > stored;

/**
 * A passkey (WebAuthn) the account added on the account page. Its page asks the server for a
 * challenge first (a factor's page cannot keep state when it is shown), then the page's script has
 * the browser sign it. Each challenge answers once; an assertion that does not check takes from the
 * account's one budget of wrong codes.
 */
export function passkeyFactor({ accounts, passkeys, audit, clock, webauthn, settings }: PasskeyDeps): Factor<Challenge> {
  const lock = codeLock('passkey', { accounts, audit, clock, policy: settings.smsOtp });

  return {
    id: 'passkey',
    stage: 'second',
    amr: amrOf(false),
    slot: challengeSlot,
    actions: ['start', 'verify'],
    offer: { action: 'passkey', label: 'passkey.offer' },
    phishingResistant: true,
    // Read with the account (its factors), so asking costs no statement of its own.
    enrolled: (account) => account.factors.some((f) => f.id === 'passkey'),

    async show(ctx) {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return lock.lockedView(locked);
      if (!ctx.slot) return { view: 'factors/passkey/start', model: {} };
      const options = await webauthn.authenticationOptions(await passkeys.list(account.id), ctx.slot.challenge);
      return { view: 'factors/passkey/sign-in', model: { options: JSON.stringify(options) } };
    },

    async submit(ctx, form): Promise<StepOutcome<Challenge>> {
      const account = await ctx.account();
      const locked = lock.lockedUntil(account);
      if (locked) return { ...lock.lockedRetry(locked, 'PASSKEY_FAILED'), slot: null };
      if (form.action === 'start') return { kind: 'retry', message: 'PASSKEY_READY', slot: { challenge: webauthn.challenge() } };
      // Whatever happens next, this challenge is used up.
      const challenge = ctx.slot?.challenge;
      if (!challenge) return { kind: 'retry', message: 'PASSKEY_FAILED', slot: null };
      const response = form.response ?? '';
      if (!response) return { kind: 'retry', message: 'PASSKEY_MISSING', slot: null };
      const attempt = await lock.take(account);
      if (!attempt.taken) return { ...lock.lockedRetry(attempt.lockedUntil, 'PASSKEY_FAILED'), slot: null };
      const id = webauthn.credentialIdOf(response);
      const credential = id === undefined ? undefined : await passkeys.find(account.id, id);
      const assertion = credential && (await webauthn.verifyAuthentication(response, challenge, credential));
      // An authenticator that keeps a counter must report more than last time (a clone or a replay
      // does not); the store takes it with the same condition, so of two racing assertions one counts.
      const grew = assertion !== undefined && credential !== undefined && counterGrew(credential.counter, assertion.counter);
      const accepted = grew && (await passkeys.use(account.id, credential.id, assertion.counter, assertion.backedUp, clock.now()));
      if (!accepted) {
        const reason = !credential ? 'unknown_passkey' : !assertion ? 'bad_assertion' : 'counter_not_increased';
        const lockedNow = await lock.wrong(ctx, attempt.failures, 'login.passkey', reason);
        return { ...(lockedNow ? lock.lockedRetry(lock.lockEnds(), 'PASSKEY_FAILED') : { kind: 'retry', message: 'PASSKEY_FAILED' }), slot: null };
      }
      await lock.right(account);
      await lock.event(ctx, 'login.passkey', 'success', undefined, { backedUp: assertion.backedUp });
      return { kind: 'passed', account, amr: amrOf(assertion.backedUp), slot: null };
    },
  };
}

export const passkeyModule: FactorModule<PasskeyDeps> = { id: 'passkey', signInEvent: { event: 'login.passkey', label: 'passkey.name' }, messages: passkeyMessages, texts: passkeyTexts, translations: passkeyTranslations, info: passkeyInfo, build: (deps) => passkeyFactor(deps) as Factor };
