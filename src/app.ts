import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { sql } from 'kysely';
import { retentionSeconds } from './config/retention.ts';
import { ConfigError } from './config/load.ts';
import type { Config } from './config/schema.ts';
import type { Db } from './db/connection.ts';
import { DEMO_CLIENT_ID } from './demo-data.ts';
import { ACCOUNT_CLIENT_ID, accountRoutes } from './http/account-routes.ts';
import { addressLimit } from './http/address-limit.ts';
import { allowedMethods } from './http/allowed-methods.ts';
import { demoRoutes } from './http/demo-routes.ts';
import { federationRoutes } from './http/federation-routes.ts';
import { upstreamClient } from './federation/upstream-client.ts';
import { clientAddress } from './http/client-address.ts';
import { devSmsRoutes } from './http/dev-sms-routes.ts';
import { smsReceiptRoutes } from './http/sms-receipt-routes.ts';
import { errorPages } from './http/error-pages.ts';
import { healthRoutes, type ReadinessCheck } from './http/health-routes.ts';
import { interactionRoutes } from './http/interaction-routes.ts';
import { metricsRoutes } from './http/metrics-routes.ts';
import { providerFormPostPages, providerPages } from './http/provider-pages.ts';
import { securityHeaders } from './http/security-headers.ts';
import { serverLifecycle } from './http/server.ts';
import { staticRoutes } from './http/static-routes.ts';
import { languageFromHeaders } from './http/language.ts';
import { pageTexts } from './http/page-texts.ts';
import { pageTranslations } from './http/page-translations.ts';
import { createViews, type Views } from './http/views.ts';
import { accountNotice } from './login/account-notice.ts';
import { loginChain, type LoginChain } from './login/chain.ts';
import { accountClaims } from './login/claims.ts';
import type { FactorModule } from './login/factor.ts';
import { backupCodeRenewal } from './login/factors/backup-code/account.ts';
import { passkeyEnrolment } from './login/factors/passkey/account.ts';
import { federatedLinking } from './login/factors/federated/account.ts';
import { webAuthnRelyingParty } from './login/factors/passkey/webauthn.ts';
import { phoneChange } from './login/factors/sms-otp/account.ts';
import { totpEnrolment } from './login/factors/totp/account.ts';
import { messageCatalogue, operatorTextProblems, type MessageCatalogue, type TextPart } from './login/messages.ts';
import { keepsSecondFactor, removalGuard } from './login/last-factor.ts';
import { createArgon2Hasher, type PasswordHasher } from './login/passwords.ts';
import { buildFactors, factorModules, type FactorDeps } from './login/registry.ts';
import { describeSignIns, REAUTH_WINDOW_SECONDS, signInEvents } from './login/sign-ins.ts';
import type { SmsBudgetPolicy } from './login/sms-codes/budgets.ts';
import { otpSending } from './login/sms-codes/sending.ts';
import { clientMetadataSource } from './oidc/client-metadata.ts';
import { interactionFacade } from './oidc/interaction.ts';
import { keyTimes, resolveProviderKeys } from './oidc/keys.ts';
import { liveKeys } from './oidc/live-keys.ts';
import { providerPageClientUris } from './oidc/page-client.ts';
import { createProvider } from './oidc/provider.ts';
import { sessionReader } from './oidc/sessions.ts';
import { signOutEverywhere } from './repositories/account-revocation.ts';
import { accountLock } from './repositories/account-lock.ts';
import { accountRepository } from './repositories/accounts.ts';
import { authEventRepository } from './repositories/auth-events.ts';
import { backupCodeRepository } from './repositories/backup-codes.ts';
import { clientRepository } from './repositories/clients.ts';
import { loginFlowRepository } from './repositories/login-flows.ts';
import { oidcPayloadRepository } from './repositories/oidc-payloads.ts';
import { passkeyCredentialRepository } from './repositories/passkey-credentials.ts';
import { otpChallengeRepository } from './repositories/otp-challenges.ts';
import { passwordFailureRepository } from './repositories/password-failures.ts';
import { serverSecret, serverSecretRepository } from './repositories/server-secrets.ts';
import { smsMessageRepository } from './repositories/sms-messages.ts';
import { smsDeliveryRepository } from './repositories/sms-deliveries.ts';
import { totpCredentialRepository } from './repositories/totp-credentials.ts';
import { expiredRowSweeper } from './repositories/sweeper.ts';
import { federatedLinkRepository } from './repositories/federated-links.ts';
import { upstreamProviderRepository, type StoredUpstreamProvider, type UpstreamProviderRepository } from './repositories/upstream-providers.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { purposeKey } from './shared/keys.ts';
import { withAuditLines } from './shared/audit-lines.ts';
import type { Logger } from './shared/log.ts';
import { cryptoRandom, type Random } from './shared/random.ts';
import type { Texts } from './shared/i18n.ts';
import { readTranslationFiles } from './shared/translation-files.ts';
import { destinationAllowed } from './sms/destination-policy.ts';
import type { SmsSender } from './sms/port.ts';
import { wireSmsSender, type SmsWiring } from './sms-wiring.ts';
import { meterCircuits, meteredHasher, meteredStores, meterLoginsStarted, smsProvider, wireMetrics, type MetricsWiring } from './metrics-wiring.ts';
import { startMetricsServer, type MetricsServer } from './observability/metrics-server.ts';
import { shortCache } from './shared/short-cache.ts';

export interface AppOptions {
  config: Config;
  db: Db;
  log: Logger;
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  /** The SMS sender; default from `sms.sender`. Tests pass a recording fake. */
  smsSender?: SmsSender;
  /** The factors to sign in with; default the registry's. Tests add factors of their own. */
  factorModules?: readonly FactorModule<FactorDeps>[];
}

export interface KeystepApp {
  /** The request handler, for a server the caller made (tests bind a port before the issuer is known). */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  listen(port: number, host?: string): Promise<Server>;
  sweep(): Promise<void>;
  /** Reads the signing and cookie keys again (a listening server does every `keys.reloadSeconds`); true when they changed. */
  reloadKeys(): Promise<boolean>;
  close(): Promise<void>;
  /** The port of the metrics listener, when `metrics.port` asks for one (0 picks a free port). */
  metricsPort?: number;
}

interface Runtime {
  config: Config;
  log: Logger;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  observed: MetricsWiring;
}

type Stores = ReturnType<typeof buildStores>;

function buildStores(db: Db, auditLines?: Logger) {
  const audit = auditLines ? withAuditLines(authEventRepository(db), auditLines) : authEventRepository(db);
  return {
    accounts: accountRepository(db),
    clients: clientRepository(db),
    payloads: oidcPayloadRepository(db),
    flows: loginFlowRepository(db),
    audit,
    otp: otpChallengeRepository(db),
    backupCodes: backupCodeRepository(db),
    totp: totpCredentialRepository(db),
    passkeys: passkeyCredentialRepository(db),
    smsLog: smsMessageRepository(db),
    smsDeliveries: smsDeliveryRepository(db),
    secrets: serverSecretRepository(db),
    passwordFailures: passwordFailureRepository(db),
    signOutEverywhere: signOutEverywhere(db, audit),
    accountLock: accountLock(db),
  };
}

/**
 * The upstream providers of the config file and of `keystep idp add`; on the same name the file's
 * wins. A stored one is kept a few seconds: a login's pages ask for each several times (its offer,
 * its start, its return), and each read unseals its client secret.
 */
function upstreamDirectory(config: Config, stored: UpstreamProviderRepository, clock: Clock) {
  const findStored = shortCache((name) => stored.find(name), { clock });
  const fromFile = (name: string): StoredUpstreamProvider | undefined => {
    const p = Object.hasOwn(config.federation.providers, name) ? config.federation.providers[name] : undefined;
    return p && { ...p, name, displayName: p.displayName ?? name, clientSecret: p.clientSecret, userAttribute: p.userAttribute, mobileClaim: p.mobileClaim };
  };
  const names = Object.keys(config.federation.providers);
  return {
    find: async (name: string) => fromFile(name) ?? (await findStored(name)),
    list: async () => [...names.map((n) => fromFile(n)!), ...(await stored.list()).filter((p) => !names.includes(p.name))],
  };
}

/**
 * The upstream providers (the config file's and `idp add`'s, their secrets sealed) and the links of
 * their identities, each found only while its provider has the issuer it was made at; links of an
 * older Keystep, made before links kept their issuer, hold for the issuer each provider has now.
 */
async function buildFederation(config: Config, db: Db, keys: Keys, log: Logger, clock: Clock) {
  const directory = upstreamDirectory(config, await upstreamSecretsAtRest(db, keys, log), clock);
  const links = federatedLinkRepository(db, async (name) => (await directory.find(name))?.issuer);
  await links.stampLegacy(await directory.list());
  return { directory, links };
}
type Federation = Awaited<ReturnType<typeof buildFederation>>;

/** The signing and cookie keys as they stand now, read again every `keys.reloadSeconds` (src/oidc/live-keys.ts). */
async function providerKeys(config: Config, stores: Stores, clock: Clock) {
  const load = () => resolveProviderKeys(config.keys, stores.secrets, clock.now(), keyTimes(config));
  return liveKeys(await load(), load);
}

/** One key per purpose, from the server's one secret (configured, or made once and kept in the database). */
async function buildKeys(config: Config, stores: Stores, random: Random, clock: Clock) {
  const secret: KeyObject = await serverSecret(stores.secrets, config.keys.otpHmacKey, random);
  return {
    provider: await providerKeys(config, stores, clock),
    // The secret's first purpose keeps the secret itself: codes sent before an upgrade (or by an
    // older instance during a rolling one) still check. Every other purpose gets a derived key.
    otpCodes: secret,
    forms: purposeKey(secret, 'form-tokens'),
    shownOnce: purposeKey(secret, 'shown-once'),
    totpSecrets: purposeKey(secret, 'totp-secrets'),
    smsNumbers: purposeKey(secret, 'sms-numbers'),
    upstreamSecrets: purposeKey(secret, 'upstream-secrets'),
  };
}

type Keys = Awaited<ReturnType<typeof buildKeys>>;

/**
 * The providers of `keystep idp add`, their client secrets sealed at rest: those an older Keystep
 * stored in plain text are sealed now, and a secret that does not open is named in the log.
 */
async function upstreamSecretsAtRest(db: Db, keys: Keys, log: Logger): Promise<UpstreamProviderRepository> {
  const store = upstreamProviderRepository(db, keys.upstreamSecrets);
  const sealed = await store.sealPlainSecrets();
  if (sealed.length) log.info({ providers: sealed }, 'sealed the client secrets of upstream providers stored in plain text');
  const unreadable = (await store.list()).filter((p) => p.secretUnreadable).map((p) => p.name);
  if (unreadable.length) log.warn({ providers: unreadable }, 'the client secrets of these upstream providers do not open with this server secret (keys.otpHmacKey changed?): put it back, or idp remove and idp add them again');
  return store;
}

/** The SMS budgets and the pumping breaker, from their settings (README: "SMS pumping"). */
function smsBudgetPolicy(config: Config): SmsBudgetPolicy {
  const { sms, smsOtp } = config;
  const b = sms.budgets;
  return {
    perLogin: smsOtp.maxResends + 1,
    account: { limit: smsOtp.userSendLimit, windowSeconds: smsOtp.userSendWindowSeconds },
    address: { limit: sms.ipSendLimit, windowSeconds: sms.velocityWindowSeconds },
    hour: { limit: sms.globalSendLimit, windowSeconds: sms.velocityWindowSeconds },
    perDay: b.perDay,
    number: { limit: b.perNumber, windowSeconds: b.numberWindowSeconds },
    prefix: { limit: b.perPrefix, windowSeconds: b.prefixWindowSeconds, hiddenDigits: b.prefixHiddenDigits },
    country: { limit: b.perCountry, windowSeconds: b.countryWindowSeconds, limits: b.countries },
    backoff: { after: b.backoffAfter, minSeconds: b.backoffMinSeconds, maxSeconds: b.backoffMaxSeconds, jitter: b.backoffJitter, windowSeconds: b.backoffWindowSeconds },
    pumping: sms.pumping,
  };
}

/** Every owner of texts: the factors (with the chain's own, which the catalogue adds) and the pages. */
export function textParts(modules: readonly FactorModule<FactorDeps>[]): TextPart[] {
  return [...modules, { messages: {}, texts: pageTexts, translations: pageTranslations }];
}

/** The operator's translation files, and every problem with them or with the default language. */
export function loadTranslations(settings: Config['translations'], modules: readonly FactorModule<FactorDeps>[] = factorModules): { operator: Record<string, Texts>; problems: string[] } {
  const { files, problems } = settings.dir ? readTranslationFiles(settings.dir) : { files: {}, problems: [] };
  return { operator: files, problems: [...problems, ...operatorTextProblems(textParts(modules), files, settings.defaultLanguage)] };
}

/** Every text in every language, the operator's winning; a problem stops the start like a bad setting. */
function buildTexts(config: Config, modules: readonly FactorModule<FactorDeps>[]): MessageCatalogue {
  const { operator, problems } = loadTranslations(config.translations, modules);
  if (problems.length) throw new ConfigError(problems.map((p) => `translations (KEYSTEP_TRANSLATIONS_DIR, KEYSTEP_TRANSLATIONS_DEFAULT_LANGUAGE): ${p}`));
  return messageCatalogue(textParts(modules), { defaultLanguage: config.translations.defaultLanguage, operator });
}

/** The factors the settings switch on, the chain that composes them, and the account page's halves of them. */
function buildLogin(rt: Runtime, stores: Stores, keys: Keys, sms: SmsWiring, modules: readonly FactorModule<FactorDeps>[], texts: MessageCatalogue, federation: Federation) {
  const { config, clock, random } = rt;
  const settings = {
    password: config.password,
    smsOtp: config.smsOtp,
    sms: { defaultCountry: config.sms.defaultCountry, destinationAllowed: (e164: string) => destinationAllowed(e164, config.sms.allowedCountries) },
  };
  const sending = otpSending({
    otp: stores.otp, smsLog: stores.smsLog, sender: sms.sender, audit: stores.audit, clock, random, hmacKey: keys.otpCodes, policy: config.smsOtp,
    deliveries: stores.smsDeliveries,
    serviceName: config.serviceName, issuerHost: new URL(config.issuer).host, texts: texts.page,
    budgets: smsBudgetPolicy(config), numberKey: keys.smsNumbers, log: rt.log,
  });
  const webauthn = webAuthnRelyingParty(config.issuer, config.serviceName, random);
  const upstreamProviders = federation.directory;
  const upstream = upstreamClient({ keystepIssuer: config.issuer, timeoutMs: config.federation.timeoutMs, settings: upstreamProviders.find });
  const deps: FactorDeps = {
    ...stores, hasher: rt.hasher, clock, random, sending, otpHmacKey: keys.otpCodes, totpKey: keys.totpSecrets, webauthn, settings,
    upstreamProviders, upstreamClient: upstream, federatedAccounts: federation.links,
  };
  const chain = loginChain(buildFactors(modules, deps), config.smsOtp);
  const notify = accountNotice({ sender: sms.sender, audit: stores.audit, serviceName: config.serviceName, texts: texts.page, maskVisibleDigits: config.smsOtp.maskVisibleDigits });
  const removal = { notify, guardRemoval: removalGuard(keepsSecondFactor(chain), stores.accounts, stores.accountLock) };
  return {
    chain,
    messages: texts,
    signInEvents: signInEvents(modules),
    phone: phoneChange({ ...deps, sender: sms.sender, serviceName: config.serviceName, texts: texts.page }),
    backupCodes: backupCodeRenewal({ ...deps, random, shownOnceKey: keys.shownOnce }),
    totp: totpEnrolment({ ...deps, ...removal, random, serviceName: config.serviceName }),
    passkeys: passkeyEnrolment({ ...deps, ...removal, lock: stores.accountLock }),
    federation: federatedLinking(deps),
  };
}

type Login = ReturnType<typeof buildLogin>;
type Provider = ReturnType<typeof createProvider>;

function buildProvider(rt: Runtime, stores: Stores, keys: Keys, chain: LoginChain, views: Views): Provider {
  const languages = views.texts.languages;
  const provider = createProvider({
    config: rt.config,
    keys: keys.provider.keys(),
    cookieKeys: keys.provider.cookieKeys,
    payloads: stores.payloads,
    clients: clientMetadataSource((id) => stores.clients.find(id), rt.clock),
    accounts: { claimsFor: async (id) => accountClaims(await stores.accounts.findById(id)) },
    pages: providerPages(views, rt.log),
    clock: rt.clock,
    languages,
    async needsSecondFactor({ accountId, clientMfa, mfaRequested, phishingResistant, sessionAmr }) {
      const account = await stores.accounts.findById(accountId);
      return account ? chain.secondFactorNeeded(account, { clientMfa, mfaRequested, phishingResistant }, sessionAmr) : false;
    },
  });
  keys.provider.attach(provider);
  return provider;
}

/** Readiness: the database; the SMS circuit is reported but an open one does not take the instance out. */
function readinessChecks(db: Db, sms: SmsWiring): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ name: 'database', check: async () => { await sql`select 1`.execute(db); return { ok: true }; } }];
  // Every instance shares the gateway, and logins can still finish with backup codes.
  const circuit = sms.circuit;
  const gateways = sms.gateways;
  if (circuit) checks.push({ name: 'smsGateway', check: async () => ({ ok: true, detail: { circuit: circuit(), ...(gateways ? { gateways: gateways() } : {}) } }) });
  return checks;
}

function mountRoutes(provider: Provider, rt: Runtime, db: Db, stores: Stores, keys: Keys, login: Login, sms: SmsWiring, views: Views) {
  const { config } = rt;
  const routers = [
    staticRoutes(config.viewsDir),
    federationRoutes(),
    healthRoutes(readinessChecks(db, sms), config.readinessTimeoutMs),
    interactionRoutes({
      interactions: interactionFacade(provider), flows: stores.flows, accounts: stores.accounts, chain: login.chain, views, messages: login.messages,
      audit: stores.audit, clock: rt.clock, csrfKey: keys.forms, interactionTtlSeconds: config.session.interactionTtlSeconds, reauthWindowSeconds: REAUTH_WINDOW_SECONDS,
      metrics: rt.observed.metrics,
    }),
    accountRoutes({
      issuer: config.issuer, sessions: sessionReader(provider), phone: login.phone, backupCodes: login.backupCodes, totp: login.totp, passkeys: login.passkeys, federation: login.federation, messages: login.messages, flows: stores.flows,
      views, clock: rt.clock, csrfKey: keys.forms, maskDigits: config.smsOtp.maskVisibleDigits, reauthWindowSeconds: REAUTH_WINDOW_SECONDS,
      overview: {
        account: (id) => stores.accounts.findById(id),
        backupCodesLeft: (id) => stores.backupCodes.countUnused(id),
        recentSignIns: async (id) => describeSignIns(await stores.audit.listForAccount(id, 100), login.signInEvents),
        signOutEverywhere: stores.signOutEverywhere,
      },
    }),
  ];
  // The demo relying party exists only for trying Keystep out; production refuses demo mode.
  if (config.demo && config.env !== 'production') routers.push(demoRoutes({ issuer: config.issuer, clientId: DEMO_CLIENT_ID, views }));
  // The development inbox shows full numbers and codes: never in production (which refuses the console sender).
  if (sms.inbox && config.env !== 'production') routers.push(devSmsRoutes(sms.inbox, views));
  if (config.metrics.bearerToken && rt.observed.scrape) routers.push(metricsRoutes(rt.observed.scrape, config.metrics.bearerToken));
  if (sms.receipts) routers.push(smsReceiptRoutes(sms.receipts, config.issuer, rt.log));

  provider.use(securityHeaders({ providerFormTargets: providerPageClientUris }));
  provider.use(languageFromHeaders(login.messages));
  provider.use(providerFormPostPages(views));
  provider.use(errorPages(views, rt.log));
  if (config.trustedProxies.length > 0) provider.use(clientAddress(config.trustedProxies));
  provider.use(addressLimit(config.loginRequestLimit, views));
  provider.use(allowedMethods());
  for (const router of routers) provider.use(router.routes());
}

/** The account page signs people in through Keystep like any app, as this first-party client. */
function ensureAccountClient(stores: Stores, issuer: string) {
  return stores.clients.ensure({
    clientId: ACCOUNT_CLIENT_ID,
    metadata: {
      client_name: 'Your account', redirect_uris: [`${issuer}/account/callback`], post_logout_redirect_uris: [`${issuer}/account/signed-out`],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none',
    },
    consentRequired: false,
    mfa: 'required',
  });
}

/** The composition root: the only place that picks concrete adapters and wires them together. */
export async function createApp(options: AppOptions): Promise<KeystepApp> {
  const { config, db, log } = options;
  const clock = options.clock ?? systemClock;
  const observed = wireMetrics(config, clock, db);
  const { metrics } = observed;
  const rt: Runtime = { config, log, clock, random: options.random ?? cryptoRandom, hasher: meteredHasher(options.hasher ?? createArgon2Hasher(), metrics), observed };
  const stores = meteredStores(buildStores(db, config.audit.stdout ? log : undefined), metrics, clock);
  if (config.sms.allowedCountries.includes('*')) log.warn('sms.allowedCountries is *: SMS may go to every country; list the countries your users are in to narrow what SMS pumping can cost');
  const sms = wireSmsSender(config, log, rt.clock, (r) => stores.smsLog.record(r), options.smsSender,
    { usedGateways: (uid) => stores.smsDeliveries.usedGateways(uid), receipts: stores.smsDeliveries }, { metrics, provider: smsProvider(config) });
  meterCircuits(metrics, config.sms.gateways.length ? sms.gateways : sms.circuit && (() => [{ name: smsProvider(config), circuit: sms.circuit!() }]));
  const keys = await buildKeys(config, stores, rt.random, rt.clock);
  const modules = options.factorModules ?? factorModules;
  const texts = buildTexts(config, modules);
  const views = createViews(config.serviceName, config.viewsDir, texts);
  const federation = await buildFederation(config, db, keys, log, rt.clock);
  const login = buildLogin(rt, stores, keys, sms, modules, texts, federation);
  const provider = buildProvider(rt, stores, keys, login.chain, views);
  meterLoginsStarted(provider, metrics);
  await ensureAccountClient(stores, config.issuer);
  mountRoutes(provider, rt, db, stores, keys, login, sms, views);

  const sweep = expiredRowSweeper(stores, rt.clock, log, retentionSeconds(config));
  const handler = provider.callback();
  const server = serverLifecycle(handler, sweep, config.sweepIntervalSeconds);
  const scrape = observed.scrape;
  const metricsServer: MetricsServer | undefined = config.metrics.port !== undefined && scrape
    ? await startMetricsServer(scrape, config.metrics.port, config.metrics.host)
    : undefined;
  const reloadKeys = () => keys.provider.reload();
  let keyReload: NodeJS.Timeout | undefined;
  return {
    callback: () => handler, sweep, reloadKeys, metricsPort: metricsServer?.port,
    async listen(port, host) {
      const listening = await server.listen(port, host);
      keyReload = setInterval(() => void reloadKeys().catch((err: unknown) => log.warn({ err }, 'reading the keys again failed')), config.keys.reloadSeconds * 1000);
      keyReload.unref();
      return listening;
    },
    async close() {
      clearInterval(keyReload);
      await Promise.all([server.close(), metricsServer?.close()]);
    },
  };
}
