import { createSecretKey, hkdfSync } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { sql } from 'kysely';
import type { Config } from './config/schema.ts';
import type { Db } from './db/connection.ts';
import { sweepTables } from './db/sweep.ts';
import { addressLimit } from './http/address-limit.ts';
import { allowedMethods } from './http/allowed-methods.ts';
import { errorPages } from './http/error-pages.ts';
import { healthRoutes, type ReadinessCheck } from './http/health-routes.ts';
import { interactionRoutes } from './http/interaction-routes.ts';
import { providerPages } from './http/provider-pages.ts';
import { securityHeaders } from './http/security-headers.ts';
import { staticRoutes } from './http/static-routes.ts';
import { createViews } from './http/views.ts';
import { demoRoutes } from './http/demo-routes.ts';
import { DEMO_CLIENT_ID } from './demo-data.ts';
import { LoginChain } from './login/chain.ts';
import { createArgon2Hasher, type PasswordHasher } from './login/passwords.ts';
import { createBackupCodeStep } from './login/steps/backup-code.ts';
import { createPasswordStep } from './login/steps/password.ts';
import { createSmsOtpStep } from './login/steps/sms-otp.ts';
import { createPhoneCaptureStep } from './login/steps/phone-capture.ts';
import { destinationAllowed } from './sms/destination-policy.ts';
import { otpSending } from './login/otp-sending.ts';
import { secondFactorNeeded } from './login/second-factor.ts';
import { backupCodeRepository } from './repositories/backup-codes.ts';
import { otpChallengeRepository } from './repositories/otp-challenges.ts';
import { smsMessageRepository } from './repositories/sms-messages.ts';
import type { SmsSender } from './sms/port.ts';
import { wireSmsSender } from './sms-wiring.ts';
import { devSmsRoutes } from './http/dev-sms-routes.ts';
import { ACCOUNT_CLIENT_ID, accountRoutes } from './http/account-routes.ts';
import { accountActions, describeSignIns } from './login/account-actions.ts';
import { otpVerifier } from './login/otp-verification.ts';
import { secondFactorSupport } from './login/steps/step-support.ts';
import { sessionReader } from './oidc/sessions.ts';
import { interactionFacade } from './oidc/interaction.ts';
import { resolveProviderKeys } from './oidc/keys.ts';
import { createProvider, CONSENT_PROPERTY, MFA_PROPERTY } from './oidc/provider.ts';
import { providerPageClientUris } from './oidc/page-client.ts';
import { accountRepository } from './repositories/accounts.ts';
import { accountRevocation } from './repositories/account-revocation.ts';
import { authEventRepository } from './repositories/auth-events.ts';
import { clientRepository } from './repositories/clients.ts';
import { loginFlowRepository } from './repositories/login-flows.ts';
import { oidcPayloadRepository } from './repositories/oidc-payloads.ts';
import { passwordFailureRepository } from './repositories/password-failures.ts';
import { serverSecretRepository } from './repositories/server-secrets.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import type { Logger } from './shared/log.ts';
import { cryptoRandom, type Random } from './shared/random.ts';

export interface AppOptions {
  config: Config;
  db: Db;
  log: Logger;
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  /** The SMS sender; default from `sms.sender`. Tests pass a recording fake. */
  smsSender?: SmsSender;
}

export interface KeystepApp {
  /** The request handler, for a server the caller made (tests bind a port before the issuer is known). */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  listen(port: number, host?: string): Promise<Server>;
  sweep(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Client metadata, kept a few seconds: a login reads it about eight times. The price is that
 * `keystep client add/remove` takes up to that long to reach a running server.
 */
function cachedForSeconds(seconds: number, load: (clientId: string) => Promise<Record<string, unknown> | undefined>) {
  const cache = new Map<string, { at: number; value: Promise<Record<string, unknown> | undefined> }>();
  return {
    findMetadata(clientId: string) {
      const hit = cache.get(clientId);
      if (hit && performance.now() - hit.at < seconds * 1000) return hit.value;
      if (cache.size > 1000) cache.clear();
      const value = load(clientId);
      cache.set(clientId, { at: performance.now(), value });
      value.catch(() => cache.delete(clientId));
      return value;
    },
  };
}

// 1,000 rows a statement, at most 500 statements per table a run (one after another, on one
// connection): up to half a million rows per table every sweepIntervalSeconds.
const SWEEP_BOUNDS = { batchSize: 1000, maxBatches: 500 };

/** The composition root: the only place that picks concrete adapters and wires them together. */
export async function createApp(options: AppOptions): Promise<KeystepApp> {
  const { config, db, log } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const hasher = options.hasher ?? createArgon2Hasher();

  const accounts = accountRepository(db);
  const clients = clientRepository(db);
  const payloads = oidcPayloadRepository(db);
  const flows = loginFlowRepository(db);
  const audit = authEventRepository(db);
  const views = createViews(config.serviceName, config.viewsDir);
  const otp = otpChallengeRepository(db);
  const backupCodes = backupCodeRepository(db);
  const smsLog = smsMessageRepository(db);
  const secrets = serverSecretRepository(db);
  const passwordFailures = passwordFailureRepository(db);

  const sms = wireSmsSender(config, log, clock, (r) => smsLog.record(r), options.smsSender);
  const sender = sms.sender;

  const keys = await resolveProviderKeys(config.keys, secrets);
  const hmacKey = createSecretKey(config.keys.otpHmacKey
    ? Buffer.from(config.keys.otpHmacKey, 'utf8')
    : Buffer.from(await secrets.getOrCreate('otp_hmac_key', () => random.bytes(32).toString('base64url')), 'base64url'));
  // The forms' anti-forgery tokens get a key of their own, derived from that secret: one key, one job.
  const formKey = createSecretKey(Buffer.from(hkdfSync('sha256', hmacKey, Buffer.alloc(0), 'keystep/form-tokens', 32)));
  const provider = createProvider({
    config,
    keys,
    payloads,
    clients: cachedForSeconds(5, async (clientId: string) => {
      const client = await clients.find(clientId);
      if (!client) return undefined;
      return { ...client.metadata, client_id: client.clientId, [CONSENT_PROPERTY]: client.consentRequired, ...(client.mfa ? { [MFA_PROPERTY]: client.mfa } : {}) };
    }),
    accounts: {
      async claimsFor(accountId) {
        const account = await accounts.findById(accountId);
        if (!account || account.disabled) return undefined;
        return {
          preferred_username: account.username,
          ...(account.phone && account.phoneVerifiedAt ? { phone_number: account.phone, phone_number_verified: true } : {}),
        };
      },
    },
    pages: providerPages(views, log),
    async needsSecondFactor({ accountId, clientMfa, mfaRequested }) {
      const account = await accounts.findById(accountId);
      return account ? secondFactorNeeded(account, config.smsOtp, { clientMfa, mfaRequested }) : false;
    },
  });

  const sending = otpSending({
    otp, smsLog, sender, audit, clock, random, hmacKey, policy: config.smsOtp,
    serviceName: config.serviceName, issuerHost: new URL(config.issuer).host,
    velocity: { windowSeconds: config.sms.velocityWindowSeconds, ipSendLimit: config.sms.ipSendLimit, globalSendLimit: config.sms.globalSendLimit },
  });
  const chain = new LoginChain([
    createPasswordStep({ accounts, failures: passwordFailures, hasher, audit, clock, policy: config.password }),
    createBackupCodeStep({ accounts, backupCodes, hasher, audit, clock, policy: config.smsOtp }),
    createPhoneCaptureStep({
      accounts, otp, sending, audit, clock, hmacKey, policy: config.smsOtp,
      defaultCountry: config.sms.defaultCountry, destinationAllowed: (e164) => destinationAllowed(e164, config.sms.allowedCountries),
    }),
    createSmsOtpStep({ accounts, otp, sending, audit, clock, hmacKey, policy: config.smsOtp }),
  ]);

  // The account page signs people in through Keystep like any app, as this first-party client.
  await clients.ensure({
    clientId: ACCOUNT_CLIENT_ID,
    metadata: {
      client_name: 'Your account', redirect_uris: [`${config.issuer}/account/callback`], post_logout_redirect_uris: [`${config.issuer}/account/signed-out`],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none',
    },
    consentRequired: false,
    mfa: 'required',
  });
  const account = accountActions({
    accounts, backupCodes, hasher, sending, sender, audit, clock, random,
    verify: otpVerifier({ otp, clock, hmacKey, policy: config.smsOtp, support: secondFactorSupport('sms-otp', { accounts, audit, clock, policy: config.smsOtp }), event: 'account.phone_verify' }),
    serviceName: config.serviceName, phoneUnique: config.smsOtp.phoneUnique, maskDigits: config.smsOtp.maskVisibleDigits, defaultCountry: config.sms.defaultCountry,
    destinationAllowed: (e164) => destinationAllowed(e164, config.sms.allowedCountries),
  });

  const readiness: ReadinessCheck[] = [
    { name: 'database', check: async () => { await sql`select 1`.execute(db); return { ok: true }; } },
  ];
  // An open circuit is reported, but does not take the instance out of service: every instance
  // shares the gateway, and logins can still finish with backup codes.
  if (sms.circuit) {
    const circuit = sms.circuit;
    readiness.push({ name: 'smsGateway', check: async () => ({ ok: true, detail: { circuit: circuit() } }) });
  }

  const routers = [
    staticRoutes(config.viewsDir),
    healthRoutes(readiness, config.readinessTimeoutMs),
    interactionRoutes({ interactions: interactionFacade(provider), flows, chain, views, audit, clock, csrfKey: formKey, interactionTtlSeconds: config.session.interactionTtlSeconds }),
    accountRoutes({
      issuer: config.issuer, sessions: sessionReader(provider), actions: account, flows, views, clock, csrfKey: formKey, maskDigits: config.smsOtp.maskVisibleDigits,
      overview: {
        account: (id) => accounts.findById(id),
        backupCodesLeft: (id) => backupCodes.countUnused(id),
        recentSignIns: async (id) => describeSignIns(await audit.listForAccount(id, 100)),
        async signOutEverywhere(id, cause, keepSessionUid) {
          const revoked = await accountRevocation(db).revoke(id, { keepSessionUid });
          await audit.record({ event: 'account.signed_out_everywhere', result: 'success', accountId: id, detail: { cause, keptThisSession: keepSessionUid !== undefined, ...revoked } });
        },
      },
    }),
  ];
  // The demo relying party exists only for trying Keystep out; production refuses demo mode.
  if (config.demo && config.env !== 'production') routers.push(demoRoutes({ issuer: config.issuer, clientId: DEMO_CLIENT_ID, views }));
  // The development inbox shows full numbers and codes: never in production (which refuses the console sender).
  if (sms.inbox && config.env !== 'production') routers.push(devSmsRoutes(sms.inbox, views));

  provider.use(securityHeaders({ providerFormTargets: providerPageClientUris }));
  provider.use(errorPages(views, log));
  provider.use(addressLimit(config.loginRequestLimit, views));
  provider.use(allowedMethods());
  for (const router of routers) provider.use(router.routes());

  let server: Server | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  let sweeping = false;
  async function sweep() {
    // A run that outlasts the interval is not joined by a second one on the same rows.
    if (sweeping) return;
    sweeping = true;
    try {
      const dayAgo = new Date(clock.now().getTime() - 86_400_000);
      const { removed, behind } = await sweepTables({
        oidc_payloads: (n) => payloads.sweepExpired(n),
        login_flows: (n) => flows.sweepExpired(n),
        password_failures: (n) => passwordFailures.sweep(dayAgo, n),
        // Not deleted but settled: a reservation no send finished within the longest a code lives.
        sms_messages: (n) => smsLog.settleAbandoned(new Date(clock.now().getTime() - 600_000), n),
      }, SWEEP_BOUNDS);
      if (removed) log.debug({ removed }, 'swept expired rows');
      if (behind.length) log.warn({ tables: behind, removed }, 'expired rows left for the next sweep');
    } catch (err) {
      log.warn({ err }, 'sweep of expired rows failed');
    } finally {
      sweeping = false;
    }
  }

  return {
    callback: () => provider.callback(),
    sweep,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server = provider.listen(port, host, () => resolve(server!));
        server.once('error', reject);
        sweeper = setInterval(() => void sweep(), config.sweepIntervalSeconds * 1000);
        sweeper.unref();
      });
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
