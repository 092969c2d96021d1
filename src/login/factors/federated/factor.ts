import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AMR_FEDERATED } from '../../../shared/acr.ts';
import type { Random } from '../../../shared/random.ts';
import type { Factor, FactorContext, FactorModule, LoginContext, Offer, StepOutcome, StepView } from '../../factor.ts';
import type { AccountStore, AuditLog } from '../../ports.ts';
import { resolveAccount } from './accounts.ts';
import { federatedInfo, federatedMessages, federatedTexts, type FederatedMessage } from './messages.ts';
import { federatedTranslations } from './translations.ts';
import type { FederatedAccounts, UpstreamClient, UpstreamFailure, UpstreamProvider, UpstreamProviders } from './ports.ts';
import { numberChecks } from '../../sms-codes/number.ts';

export interface FederatedDeps {
  upstreamProviders: UpstreamProviders;
  upstreamClient: UpstreamClient;
  federatedAccounts: FederatedAccounts;
  audit: AuditLog;
  random: Random;
  accounts: Pick<AccountStore, 'findIdsByVerifiedPhone'>;
  settings: { sms: { defaultCountry?: string | undefined; destinationAllowed(e164: string): boolean }; smsOtp: { phoneUnique: boolean } };
}

export const FEDERATED_ID = 'federated';
/** How a client's first steps name an upstream provider: `idp:<name>`. */
export const IDP_PREFIX = 'idp:';
/** The action of the browser's return from the upstream (the callback's parameters are the form). */
export const RETURN_ACTION = 'return';

// Between the redirect and the callback: the provider and what its answer must match. After a
// failure only the provider, so the page offers a new try instead of sending the browser off again.
const slot = z.union([
  z.object({ provider: z.string().max(64), state: z.string().max(256), nonce: z.string().max(128), verifier: z.string().max(128) }),
  z.object({ provider: z.string().max(64), ended: z.literal(true) }),
]);
type Slot = z.infer<typeof slot>;
type Outcome = StepOutcome<Slot>;

const FAILURE_MESSAGES: Record<UpstreamFailure, FederatedMessage> = {
  unreachable: 'FEDERATION_UNREACHABLE',
  error_response: 'FEDERATION_REFUSED',
  bad_response: 'FEDERATION_BAD_RESPONSE',
  code_refused: 'FEDERATION_CODE_REFUSED',
  bad_id_token: 'FEDERATION_BAD_ID_TOKEN',
};

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** An upstream's text as the audit trail can keep it: no control characters (a NUL), no lone surrogates, bounded. */
const auditText = (v: string, max: number) => v.slice(0, max).toWellFormed().replace(/\p{Cc}/gu, '\ufffd');

/** Upstream claims worth keeping in the audit trail: what the upstream says it proved, never trusted for Keystep's acr. */
const upstreamProof = (claims: Readonly<Record<string, unknown>>) => ({
  upstreamAmr: Array.isArray(claims.amr) ? claims.amr.filter((v) => typeof v === 'string').slice(0, 8).map((v) => auditText(v, 64)) : undefined,
  upstreamAcr: typeof claims.acr === 'string' ? auditText(claims.acr, 128) : undefined,
});

/**
 * Signing in at an upstream OpenID Connect provider (a corporate provider, a social login): the
 * first stage, one way in per provider the client allows. The browser is sent there with a state
 * that names this login and a secret part kept in the slot; the answer comes back through the
 * provider's fixed callback to this login's `return` action, and the identity it proves is mapped to
 * a local account (`resolveAccount`). The second stage then runs unless the client allows skipping it.
 */
export function federatedFactor(deps: FederatedDeps): Factor<Slot> {
  const { upstreamProviders, upstreamClient, audit, random } = deps;
  const numbers = numberChecks(deps.accounts, { defaultCountry: deps.settings.sms.defaultCountry, destinationAllowed: (e164) => deps.settings.sms.destinationAllowed(e164), phoneUnique: deps.settings.smsOtp.phoneUnique });

  /** The providers this login's client offers, in the client's order (unknown names are left out). */
  async function offered(ctx: LoginContext): Promise<UpstreamProvider[]> {
    const names = (ctx.policy.firstSteps ?? []).filter((s) => s.startsWith(IDP_PREFIX)).map((s) => s.slice(IDP_PREFIX.length));
    const found = await Promise.all([...new Set(names)].map((n) => upstreamProviders.find(n)));
    return found.filter((p): p is UpstreamProvider => p !== undefined);
  }
  const offerOf = (p: UpstreamProvider): Offer => ({ action: `${IDP_PREFIX}${p.name}`, label: 'federated.offer', labelParams: { provider: p.displayName }, factor: FEDERATED_ID, target: p.issuer });

  const event = (ctx: FactorContext<Slot>, result: 'success' | 'failure' | 'info', provider: string, extra: { accountId?: string | null; reason?: string; detail?: Record<string, unknown> } = {}) =>
    audit.record({
      event: 'login.federated', step: FEDERATED_ID, result, accountId: extra.accountId ?? null, reason: extra.reason ?? null,
      clientId: ctx.clientId, flowUid: ctx.uid, ip: ctx.ip, detail: { provider, ...extra.detail },
    });

  const retry = (message: FederatedMessage, provider: UpstreamProvider | string, keep: Slot | null): Outcome => ({
    kind: 'retry', message, params: { provider: typeof provider === 'string' ? provider : provider.displayName }, slot: keep,
  });

  /** A new request to the provider: its state names the login (the callback finds it by that) and carries a secret only the slot knows. */
  async function begin(ctx: FactorContext<Slot>, provider: UpstreamProvider): Promise<{ url: string; slot: Slot } | { failed: UpstreamFailure }> {
    const request = {
      state: `${ctx.uid}.${random.bytes(24).toString('base64url')}`,
      nonce: random.bytes(24).toString('base64url'),
      verifier: random.bytes(32).toString('base64url'),
    };
    const started = await upstreamClient.begin(provider.name, request);
    if ('failed' in started) return started;
    return { url: started.url, slot: { provider: provider.name, ...request } };
  }

  async function start(ctx: FactorContext<Slot>, provider: UpstreamProvider): Promise<Outcome> {
    const started = await begin(ctx, provider);
    if ('failed' in started) {
      await event(ctx, 'failure', provider.name, { reason: started.failed });
      return retry(FAILURE_MESSAGES[started.failed], provider, { provider: provider.name, ended: true });
    }
    return { kind: 'redirect', url: started.url, slot: started.slot };
  }

  async function finish(ctx: FactorContext<Slot>, params: Readonly<Record<string, string>>): Promise<Outcome> {
    const pending = ctx.slot && 'state' in ctx.slot ? ctx.slot : undefined;
    // Still one this login's client offers: a provider taken off the client meanwhile does not finish it.
    const provider = pending && (await offered(ctx)).find((p) => p.name === pending.provider);
    // The state must be the one this login sent last: an old, copied or forged answer is not redeemed.
    const { via, action: _, ...response } = params;
    if (!pending || !provider || via !== pending.provider || response.state === undefined || !sameText(response.state, pending.state)) {
      await event(ctx, 'failure', pending?.provider ?? '', { reason: 'state_mismatch' });
      return { kind: 'retry', message: 'FEDERATION_STALE', slot: pending ? { provider: pending.provider, ended: true } : undefined };
    }
    const ended: Slot = { provider: provider.name, ended: true };
    const result = await upstreamClient.finish(provider.name, response, pending);
    if (!result.ok) {
      await event(ctx, 'failure', provider.name, { reason: result.reason, detail: result.detail ? { error: auditText(result.detail, 200) } : {} });
      return retry(FAILURE_MESSAGES[result.reason], provider, ended);
    }
    const proof = upstreamProof(result.claims);
    const found = await resolveAccount(deps.federatedAccounts, provider, result.subject, result.claims, {
      defaultCountry: deps.settings.sms.defaultCountry,
      // The rules phone capture and the account page apply to a number typed (sms-codes/number.ts).
      usable: async (e164) => deps.settings.sms.destinationAllowed(e164) && !(await numbers.takenElsewhere('', e164)),
      phoneUnique: deps.settings.smsOtp.phoneUnique,
    });
    if (!found.found) {
      await event(ctx, 'failure', provider.name, { reason: found.reason, detail: proof });
      return retry(found.reason === 'name_taken' ? 'FEDERATION_NAME_TAKEN' : 'FEDERATION_NOT_LINKED', provider, ended);
    }
    if (found.account.disabled) {
      await event(ctx, 'failure', provider.name, { accountId: found.account.id, reason: 'disabled', detail: proof });
      return retry('FEDERATION_ACCOUNT_DISABLED', provider, ended);
    }
    await event(ctx, 'success', provider.name, { accountId: found.account.id, detail: { ...proof, ...(found.created ? { created: true } : {}) } });
    return { kind: 'passed', account: found.account, slot: null };
  }

  return {
    id: FEDERATED_ID,
    stage: 'first',
    amr: [AMR_FEDERATED],
    slot,
    actions: [RETURN_ACTION],
    secondStageUnlessOptional: true,
    enrolled: () => true,

    async starts(ctx) {
      return (await offered(ctx)).map(offerOf);
    },

    async show(ctx): Promise<StepView> {
      const providers = await offered(ctx);
      // The client's only way in, not tried yet in this login: straight there.
      if (providers.length === 1 && ctx.slot === undefined) {
        const started = await begin(ctx, providers[0]!);
        if (!('failed' in started)) return { view: '', model: {}, redirect: started };
        return { view: 'factors/federated/choose', model: {}, message: { message: FAILURE_MESSAGES[started.failed], params: { provider: providers[0]!.displayName } } };
      }
      return { view: 'factors/federated/choose', model: {} };
    },

    async submit(ctx, form): Promise<Outcome> {
      if (form.action === RETURN_ACTION) return finish(ctx, Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string')));
      const name = form.action?.startsWith(IDP_PREFIX) ? form.action.slice(IDP_PREFIX.length) : undefined;
      const provider = (await offered(ctx)).find((p) => p.name === name);
      if (!provider) return { kind: 'retry', message: 'FEDERATION_STALE' };
      return start(ctx, provider);
    },
  };
}

export const federatedModule: FactorModule<FederatedDeps> = {
  id: FEDERATED_ID,
  signInEvent: { event: 'login.federated', label: 'federated.name' },
  messages: federatedMessages,
  texts: federatedTexts,
  translations: federatedTranslations,
  info: federatedInfo,
  build: federatedFactor,
};
