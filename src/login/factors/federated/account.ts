import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Random } from '../../../shared/random.ts';
import type { Account, AuditLog } from '../../ports.ts';
import type { FederatedAccounts, UpstreamClient, UpstreamFailure, UpstreamProviders } from './ports.ts';

/** A link under way on the account page: the provider and what its answer must match (in the change's flow). */
export const pendingLinkSlot = z.object({ provider: z.string().max(64), state: z.string().max(256), nonce: z.string().max(128), verifier: z.string().max(128) });
export type PendingLink = z.infer<typeof pendingLinkSlot>;

export type LinkStart = { ok: true; url: string; slot: PendingLink } | { ok: false; reason: 'unknown' | UpstreamFailure };
export type LinkFinish = { ok: true; provider: string } | { ok: false; reason: 'stale' | 'taken' | UpstreamFailure };

export interface FederatedLinkingDeps {
  upstreamProviders: UpstreamProviders;
  upstreamClient: UpstreamClient;
  federatedAccounts: FederatedAccounts;
  audit: AuditLog;
  random: Random;
}

// Compared as bytes: strings of one length in UTF-16 may differ in UTF-8 (a state in other letters).
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The account page's half of the upstream sign-in: "link your Acme SSO account", for a user who has
 * just signed in with both factors. The identity the upstream proves is linked to this account, so
 * the next upstream sign-in finds it (usecase association). The state names the account page's
 * change (`<change uid>.<secret>`), as a login's names the login.
 */
export function federatedLinking(deps: FederatedLinkingDeps) {
  const { upstreamProviders, upstreamClient, federatedAccounts, audit, random } = deps;
  return {
    /** The providers, each with whether the account is linked there (at the issuer it has now: a link of a former one finds nothing). */
    async overview(accountId: string) {
      const [providers, links] = await Promise.all([upstreamProviders.list(), federatedAccounts.listFor(accountId)]);
      return providers.map((p) => ({ name: p.name, displayName: p.displayName, issuer: p.issuer, linked: links.some((l) => l.provider === p.name && l.issuer === p.issuer) }));
    },

    async start(changeUid: string, providerName: string): Promise<LinkStart> {
      const provider = await upstreamProviders.find(providerName);
      if (!provider) return { ok: false, reason: 'unknown' };
      const slot: PendingLink = {
        provider: provider.name, state: `${changeUid}.${random.bytes(24).toString('base64url')}`,
        nonce: random.bytes(24).toString('base64url'), verifier: random.bytes(32).toString('base64url'),
      };
      const started = await upstreamClient.begin(provider.name, slot);
      return 'failed' in started ? { ok: false, reason: started.failed } : { ok: true, url: started.url, slot };
    },

    async finish(change: { uid: string; ip: string | null }, account: Account, pending: PendingLink | undefined, params: Readonly<Record<string, string>>): Promise<LinkFinish> {
      const { via, ...response } = params;
      if (!pending || via !== pending.provider || response.state === undefined || !same(response.state, pending.state)) return { ok: false, reason: 'stale' };
      const result = await upstreamClient.finish(pending.provider, response, pending);
      const event = (outcome: 'success' | 'failure', reason?: string) => audit.record({
        event: 'account.federated_link', result: outcome, accountId: account.id, reason: reason ?? null, flowUid: change.uid, ip: change.ip, detail: { provider: pending.provider },
      });
      if (!result.ok) {
        await event('failure', result.reason);
        return { ok: false, reason: result.reason };
      }
      if ((await federatedAccounts.link(pending.provider, result.subject, account.id)) === 'taken') {
        const holder = await federatedAccounts.findLinked(pending.provider, result.subject);
        // Linked to this account already: nothing to do.
        if (holder?.id !== account.id) {
          await event('failure', 'taken');
          return { ok: false, reason: 'taken' };
        }
      }
      await event('success');
      return { ok: true, provider: pending.provider };
    },
  };
}

export type FederatedLinking = ReturnType<typeof federatedLinking>;
