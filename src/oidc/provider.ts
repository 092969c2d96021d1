import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import { ACR_MFA, ACR_PHR, acrMeets, acrValues } from '../shared/acr.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../shared/unavailable.ts';
import { postgresAdapterFactory, type ClientSource, type PayloadStore } from './adapter.ts';
import { cookieSigner } from './cookie-signer.ts';
import { acceptPreviousSecrets, isPreviousSecrets, PREVIOUS_SECRETS_PROPERTY } from './previous-secrets.ts';
import { requestedAcrs } from './requested-acr.ts';
import type { ProviderKeys } from './keys.ts';

export interface AccountClaimsSource {
  /** The claims of an active account, or undefined when it is gone or disabled. */
  claimsFor(accountId: string): Promise<Record<string, unknown> | undefined>;
}

/** HTML pages the provider shows itself; http/ renders them from the pug views. */
export interface ProviderPages {
  error(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }, error: Error): Promise<void>;
  logout(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  logoutSuccess(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface ProviderDeps {
  config: Config;
  keys: ProviderKeys;
  payloads: PayloadStore;
  clients: ClientSource;
  accounts: AccountClaimsSource;
  pages: ProviderPages;
  /** Whether this account, for this client and request, needs the second factor. */
  needsSecondFactor?(input: StepUpInput): Promise<boolean>;
  /** The cookie keys as they are now, when they rotate while the server runs (live-keys.ts); else `keys.cookieKeys`. */
  cookieKeys?: () => readonly string[];
  /** When a client's earlier secret stops working (client rotate-secret); the system clock unless given. */
  clock?: Clock;
  /** The languages the pages speak, for discovery's `ui_locales_supported`. */
  languages?: readonly string[];
}

export interface StepUpInput {
  accountId: string;
  clientMfa: 'required' | 'optional' | null;
  mfaRequested: boolean;
  /** The request or the client asks for a phishing-resistant sign-in (a passkey). */
  phishingResistant: boolean;
  /** What the session's sign-in proved. */
  sessionAmr: readonly string[];
}

/** A client's MFA policy: `phishing-resistant` requires a second factor of that kind (a passkey). */
export type ClientMfa = 'required' | 'optional' | 'phishing-resistant';
const CLIENT_MFA: readonly unknown[] = ['required', 'optional', 'phishing-resistant'] satisfies ClientMfa[];

export const CONSENT_PROPERTY = 'keystep_consent';
export const MFA_PROPERTY = 'keystep_mfa';
/** The first-stage factors the client offers (`password`, `idp:<name>`); absent: password only. */
export const FIRST_STEPS_PROPERTY = 'keystep_first_steps';

/**
 * Keystep's own client settings. The provider keeps extra metadata on the client under its own
 * name; `client.metadata()` would rebuild every field of the client on each call.
 */
export function clientSettings(client: { [key: string]: unknown } | undefined): { consentRequired: boolean; mfa: ClientMfa | null; firstSteps: string[] | undefined } {
  const mfa = client?.[MFA_PROPERTY];
  const steps = client?.[FIRST_STEPS_PROPERTY];
  return {
    consentRequired: client?.[CONSENT_PROPERTY] === true,
    mfa: CLIENT_MFA.includes(mfa) ? (mfa as ClientMfa) : null,
    firstSteps: Array.isArray(steps) ? steps.filter((v): v is string => typeof v === 'string') : undefined,
  };
}

/** The acr this request needs of the session before Keystep's policy is asked: `phr` or `mfa`. */
function wantedAcr(ctx: KoaContextWithOIDC): typeof ACR_PHR | typeof ACR_MFA {
  const phr = requestedAcrs(ctx.oidc.params ?? {}).includes(ACR_PHR) || clientSettings(ctx.oidc.client).mfa === 'phishing-resistant';
  return phr ? ACR_PHR : ACR_MFA;
}

function stepUpInput(ctx: KoaContextWithOIDC, accountId: string, sessionAmr: readonly string[]): StepUpInput {
  const mfa = clientSettings(ctx.oidc.client).mfa;
  return {
    accountId, clientMfa: mfa === 'phishing-resistant' ? 'required' : mfa, mfaRequested: requestedAcrs(ctx.oidc.params ?? {}).includes(ACR_MFA),
    phishingResistant: wantedAcr(ctx) === ACR_PHR, sessionAmr,
  };
}

function policy(needsSecondFactor: (input: StepUpInput) => Promise<boolean>) {
  const { Check, base } = interactionPolicy;
  const prompts = base();
  // The provider does not enforce acr_values or Keystep's own policy: ask for a login again when
  // this request needs the second factor and the session has only the password. A check added
  // after the prompt was built gets no error of its own: with prompt=none it would answer the
  // generic interaction_required where OIDC Core names login_required.
  prompts.get('login')!.checks.add(new Check('step_up', 'a stronger sign-in is required', 'login_required', async (ctx) => {
    const session = ctx.oidc.session;
    const wanted = wantedAcr(ctx);
    if (!session?.accountId || acrMeets(session.acr, wanted)) return Check.NO_NEED_TO_PROMPT;
    // The chain decides, as for a login of its own: phishing resistance, a session from a sign-in
    // that skipped the second factor for another client, the account's factors and the policy.
    return (await needsSecondFactor(stepUpInput(ctx, session.accountId, session.amr ?? []))) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  // An essential acr (claims parameter) still unmet right after a whole login is one Keystep's
  // policy cannot give this user (the password-only one, say): asking again would run the login
  // in a loop. OIDC Core §5.5.1.1 calls it a failed authentication. A phishing-resistant session
  // meets an essential MFA acr (the provider alone compares the values exactly).
  for (const reason of ['essential_acr', 'essential_acrs']) {
    const check = prompts.get('login')!.checks.get(reason)!;
    const unmet = check.check;
    check.check = async (ctx) => {
      const asked = ctx.oidc.claims?.id_token?.acr as { value?: unknown; values?: unknown } | null | undefined;
      const wanted = reason === 'essential_acr' ? [asked?.value] : Array.isArray(asked?.values) ? asked.values : [];
      if (wanted.some((w) => typeof w === 'string' && acrMeets(ctx.oidc.acr, w))) return Check.NO_NEED_TO_PROMPT;
      const prompt = await unmet(ctx);
      if (prompt && ctx.oidc.result?.login) throw new errors.AccessDenied('the requested authentication context could not be obtained');
      return prompt;
    };
  }
  return prompts;
}

function isFirstParty(ctx: KoaContextWithOIDC): boolean {
  return !clientSettings(ctx.oidc.client).consentRequired;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, keys } = deps;
  const configuration: Configuration = {
    adapter: postgresAdapterFactory(deps.payloads, deps.clients),
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      // A Keygrip in all but its compare (see cookie-signer.ts); the provider takes either.
      keys: cookieSigner(deps.cookieKeys ?? keys.cookieKeys),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    async findAccount(_ctx, sub) {
      const claims = await deps.accounts.claimsFor(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ ...claims, sub }) };
    },
    scopes: ['openid', 'offline_access', 'profile', 'phone'],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['preferred_username'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    acrValues: [...acrValues],
    // The languages a `ui_locales` request can get (the login's pages choose by it, see http/language.ts).
    discovery: { claim_types_supported: ['normal'], ui_locales_supported: [...(deps.languages ?? ['en'])] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: [CONSENT_PROPERTY, MFA_PROPERTY, PREVIOUS_SECRETS_PROPERTY, FIRST_STEPS_PROPERTY],
      validator(_ctx, key, value) {
        if (key === PREVIOUS_SECRETS_PROPERTY && value !== undefined && !isPreviousSecrets(value)) throw new Error(`${key} must be a list of hashes and expiry times`);
        if (key === CONSENT_PROPERTY && value !== undefined && typeof value !== 'boolean') throw new Error(`${key} must be a boolean`);
        if (key === MFA_PROPERTY && value !== undefined && !CLIENT_MFA.includes(value)) throw new Error(`${key} must be required, optional or phishing-resistant`);
        if (key === FIRST_STEPS_PROPERTY && value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) throw new Error(`${key} must be a list of names`);
      },
    },
    features: {
      devInteractions: { enabled: false },
      // OIDC Core §5.5: an app may ask for single claims (phone_number without the phone scope, say);
      // first-party grants take them as they take scopes, and the consent page lists them.
      claimsParameter: { enabled: true },
      // A client may revoke only its own tokens.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => deps.pages.logout(ctx, form),
        postLogoutSuccessSource: (ctx) => deps.pages.logoutSuccess(ctx),
      },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: policy(deps.needsSecondFactor ?? (async ({ mfaRequested }) => mfaRequested)),
    },
    // First-party clients need no consent page: their grant covers whatever they ask for.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!isFirstParty(ctx) || !ctx.oidc.account) return existing;
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.account!.accountId });
      if (ctx.oidc.params?.scope) grant.addOIDCScope(String(ctx.oidc.params.scope));
      const claims = [...(ctx.oidc.requestParamClaims ?? [])];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: config.tokens.accessTokenTtlSeconds,
      AuthorizationCode: config.tokens.authorizationCodeTtlSeconds,
      IdToken: config.tokens.idTokenTtlSeconds,
      Interaction: config.session.interactionTtlSeconds,
      // Absolute limit from the sign-in, and an idle limit renewed by each use (the provider saves
      // the session on every request it sees).
      Session: (_ctx, session) => {
        const now = Math.floor(Date.now() / 1000);
        const left = session.loginTs ? session.loginTs + config.session.ttlSeconds - now : config.session.ttlSeconds;
        return Math.max(1, Math.min(config.session.idleSeconds, left));
      },
      Grant: Math.max(config.tokens.refreshTokenTtlSeconds, config.session.ttlSeconds),
      // A rotated refresh token keeps the expiry of the first one: the lifetime is absolute.
      RefreshToken: (ctx, token) => {
        const rotated = ctx?.oidc.entities.RotatedRefreshToken;
        return rotated && !token.isSenderConstrained() ? rotated.remainingTTL : config.tokens.refreshTokenTtlSeconds;
      },
    },
    renderError: (ctx, out, error) => deps.pages.error(ctx, out, error),
  };
  const provider = new Provider(config.issuer, configuration);
  acceptPreviousSecrets(provider, deps.clock ?? systemClock);
  provider.proxy = config.trustProxy;
  // Behind one proxy, the client address is the last X-Forwarded-For entry (the one the proxy added),
  // not the first, which the client can write.
  if (config.trustProxy) provider.maxIpsCount = 1;
  // The JSON endpoints (token, userinfo, …) answer a database outage as OAuth says: 503 and
  // temporarily_unavailable, not server_error. (Pages get theirs from renderError.)
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    if (!isDatabaseUnavailable(err)) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    if (typeof ctx.body !== 'string') ctx.body = { error: 'temporarily_unavailable', error_description: 'The service is briefly unavailable; try again shortly.' };
  });
  return provider;
}
