import { isIP } from 'node:net';
import { z } from 'zod';
import { upstreamIssuerProblem } from '../shared/loopback.ts';

function validProxyEntry(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
}

/** The `sms.gateway` group, also checked on its own at start-up (see load.ts). */
export const smsGatewaySchema = z.strictObject({
  preset: z.enum(['twilio']).optional()
    .describe('`twilio` fills in Twilio\'s Messages resource, form payload, basic auth, 201 as success and `sid` as the message id, from `accountSid`, `authToken` and `from` (or `messagingServiceSid`). Keys set below win.'),
  url: z.string().min(1).optional()
    .describe('Request URL; may hold `$ctx.num`, `$ctx.msg`, `$ctx.otp` (percent-encoded where they land). WSO2: the gateway URL.'),
  method: z.string().transform((m) => m.toUpperCase()).pipe(z.enum(['GET', 'POST', 'PUT'])).optional()
    .describe('GET, POST or PUT, any case. Default POST. WSO2: the HTTP method.'),
  headers: z.union([z.record(z.string(), z.string()), z.string()]).optional()
    .describe('Request headers: a map, or the WSO2 form `Name: value, Name2: value2`. Placeholders allowed except `$ctx.msg` (it has line breaks). WSO2: the HTTP headers.'),
  payload: z.string().optional()
    .describe('Request body template: `key=value&...` for form, or JSON with placeholders inside strings. WSO2: the HTTP payload.'),
  contentType: z.enum(['form', 'json']).optional()
    .describe('How the payload is encoded. Default: from a Content-Type header, else `form`.'),
  basicAuth: z.object({ username: z.string().min(1), password: z.string().min(1) }).optional()
    .describe('Keystep builds `Authorization: Basic` from these (JSON in the environment: `{"username":…,"password":…}`).'),
  successStatus: z.array(z.coerce.number().int().min(100).max(599)).min(1).optional()
    .describe('HTTP statuses that mean "sent". Default any 2xx. WSO2: http_response.'),
  messageIdPath: z.string().min(1).optional()
    .describe('Dotted path of the provider\'s message id in a JSON response (e.g. `sid`, `messages.0.message-id`); when set, a success without it is a failure.'),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000)
    .describe('Limit on connecting and on the whole request, in milliseconds.'),
  accountSid: z.string().min(1).optional()
    .describe('Twilio preset: the Account SID.'),
  authToken: z.string().min(1).optional()
    .describe('Twilio preset: the Auth Token.'),
  from: z.string().min(1).optional()
    .describe('Twilio preset: the sending number or alphanumeric sender id.'),
  messagingServiceSid: z.string().min(1).optional()
    .describe('Twilio preset: a Messaging Service SID, instead of `from`.'),
}).prefault({});

/** One upstream identity provider in the config file (the same settings as `keystep idp add`). */
export const upstreamProviderSchema = z.strictObject({
  // http only for a provider on this machine (development, tests), as `keystep idp add` allows.
  issuer: z.url({ protocol: /^https?$/ }).refine((u) => upstreamIssuerProblem(u) === undefined, 'must use https (http only on localhost)'),
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(1024).optional(),
  scope: z.string().min(1).max(512).refine((s) => s.split(' ').includes('openid'), 'must include openid').default('openid'),
  displayName: z.string().min(1).max(64).optional(),
  usecase: z.enum(['local', 'association', 'userAttribute', 'subjectUri']).default('local'),
  userAttribute: z.string().min(1).max(64).optional(),
  domains: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a domain: 1 to 32 of a-z 0-9 _ -')).min(1).default(['primary']),
  mobileClaim: z.string().min(1).max(64).optional(),
  jit: z.boolean().default(false),
}).refine((p) => p.usecase !== 'userAttribute' || p.userAttribute !== undefined, 'usecase userAttribute needs userAttribute');
const receiptStatus = z.enum(['queued', 'sent', 'delivered', 'undelivered', 'failed']);

/** One of `sms.gateways`: a gateway as `sms.gateway` describes it, named, with its own circuit, countries and receipts. */
export const smsGatewayListItemSchema = smsGatewaySchema.unwrap().extend({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes, at most 32'),
  countries: z.array(z.string().regex(/^(\+?\d{1,4}|[A-Za-z]{2})$/, 'a calling code like 44 or +1, or an ISO country code like GB')).default([]),
  notSentStatus: z.array(z.coerce.number().int().min(500).max(599)).default([]),
  circuitFailures: z.number().int().min(1).max(100).optional(),
  circuitCooldownSeconds: z.number().int().min(1).max(3600).optional(),
  receipts: z.strictObject({
    format: z.enum(['twilio', 'generic']),
    authToken: z.string().min(1).optional(),
    secret: z.string().min(16, 'at least 16 characters').optional(),
    secretHeader: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name').optional(),
    messageIdField: z.string().min(1).optional(),
    statusField: z.string().min(1).optional(),
    statusMap: z.record(z.string(), receiptStatus).optional(),
  }).optional(),
});

// Every key that has a description is a setting: it is documented in the README table and can be
// set from the config file or from its environment variable (see settings.ts). Groups are strict:
// a key the schema does not know is a problem (a typo would otherwise be ignored in silence).
export const configSchema = z.strictObject({
  env: z.enum(['development', 'production', 'test']).default('development')
    .describe('Runtime mode. `production` refuses development defaults (demo data, an unset or http issuer, the console SMS sender, no `sms.allowedCountries`).'),
  port: z.number().int().min(0).max(65535).default(3000)
    .describe('TCP port Keystep listens on.'),
  host: z.string().min(1).default('127.0.0.1')
    .describe('Address Keystep listens on. Loopback by default in every mode; `0.0.0.0` (all interfaces) only where something in front needs it, such as a container (see "Containers").'),
  issuer: z.url({ protocol: /^https?$/ }).optional()
    .describe('Public issuer URL (no trailing slash). Default `http://localhost:<port>`; must be https in production.'),
  databaseUrl: z.string().min(1).optional()
    .describe('Postgres connection string. When unset Keystep starts an embedded Postgres with its data under `dataDir`.'),
  dataDir: z.string().min(1).default('.data')
    .describe('Directory of the embedded Postgres data (used only without `databaseUrl`).'),
  embeddedPostgresPort: z.number().int().min(1024).max(65535).default(54329)
    .describe('Loopback port of the embedded Postgres.'),
  autoMigrate: z.boolean().default(false)
    .describe('Apply pending migrations at start-up against `databaseUrl` (the embedded database is always migrated).'),
  trustProxy: z.boolean().default(false)
    .describe('Trust `X-Forwarded-*` headers from a TLS-terminating proxy in front of Keystep.'),
  trustedProxies: z.array(z.string().refine((entry) => validProxyEntry(entry), 'an IP address or a CIDR range like 10.0.0.0/8')).default([])
    .describe('Addresses or CIDR ranges of the proxies in front of Keystep. When set, `X-Forwarded-For` is believed only from them, and the client address is the nearest entry that is not one of them (the per-address limits, the SMS budgets and the audit trail use it).'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Log level of the JSON logs.'),
  serviceName: z.string().min(1).max(64).default('Keystep')
    .describe('Name shown on the pages and in messages.'),
  viewsDir: z.string().min(1).optional()
    .describe('A directory of your own pages to serve instead of the built-in `views/` (copy `views/` and edit it; WSO2: the authentication endpoint pages).'),
  demo: z.boolean().optional()
    .describe('Create a demo client and demo user on first start. Default on in development, refused in production.'),
  database: z.strictObject({
    connectTimeoutMs: z.number().int().min(100).max(60_000).default(3000)
      .describe('Longest wait for a database connection (a new one, or a free one of the pool). A request that waits longer gets a "try again shortly" page (503).'),
    queryTimeoutMs: z.number().int().min(100).max(3_600_000).default(5000)
      .describe('Longest one statement may run (Postgres `statement_timeout`; Keystep gives up a second later on a server that does not answer at all), and longest a transaction may sit idle. Raise it for `keystep migrate` if a migration needs longer.'),
  }).prefault({}),
  loginRequestLimit: z.strictObject({
    perAddress: z.number().int().min(1).max(10_000_000).default(300)
      .describe('Requests from one client address per `windowSeconds` to the paths that write rows for anyone (`/auth`, `/request`, `/session/end`, the `/interaction/…` login pages); past it Keystep answers 429 with `Retry-After`. A login takes about 7. Counted in each instance\'s memory.'),
    windowSeconds: z.number().int().min(1).max(86400).default(60)
      .describe('The window of `loginRequestLimit.perAddress`.'),
  }).prefault({}),
  readinessTimeoutMs: z.number().int().min(100).max(60_000).default(2000)
    .describe('Longest `/readyz` waits for its checks; a check that takes longer counts as failing, and `/readyz` answers 503.'),
  sweepIntervalSeconds: z.number().int().min(10).max(86400).default(300)
    .describe('How often the sweep runs: it deletes expired provider rows, login flows and failed-password counts, audit events and SMS log rows past their retention (`audit.*`), in bounded batches, and settles SMS left `reserved` by a process that stopped while sending.'),
  keys: z.strictObject({
    cookieKeys: z.array(z.string().min(32)).min(1).optional()
      .describe('Cookie signing keys, newest first (each at least 32 characters). Default: generated once and stored in the database.'),
    otpHmacKey: z.string().min(32).optional()
      .describe('The server secret (at least 32 characters): it keys the HMAC of stored SMS codes, and Keystep derives from it (HKDF) a key for each other purpose: the anti-forgery tokens of the forms, new backup codes kept encrypted until shown, the authenticator apps\' secrets, the client secrets of `keystep idp add`, and the keyed hash the SMS budgets count numbers by. Default: generated once and stored in the database; set it to keep it apart from the rows it protects (the `keystep` command needs the same one).'),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional()
      .describe('Private JWK set for signing tokens, as JSON. Default: an RS256 and an ES256 key generated once and stored in the database.'),
    publishAheadSeconds: z.number().int().min(0).max(2_592_000).default(3600)
      .describe('How long a signing key made by `keystep keys rotate` is published in the JWKS before it signs, so apps that cache the JWKS know it first (at least twice `reloadSeconds` is always kept).'),
    reloadSeconds: z.number().int().min(5).max(3600).default(60)
      .describe('How often a running server reads the stored signing and cookie keys again, to pick up a rotation.'),
  }).prefault({}),
  password: z.strictObject({
    minLength: z.number().int().min(8).max(64).default(8)
      .describe('Shortest password accepted when one is set.'),
    maxLength: z.number().int().min(64).max(1024).default(128)
      .describe('Longest password accepted.'),
    throttleAfter: z.number().int().min(1).max(100).default(3)
      .describe('Consecutive wrong passwords for one account after which each further try must wait (doubling, up to `maxDelaySeconds`).'),
    maxDelaySeconds: z.number().int().min(1).max(3600).default(60)
      .describe('Longest wait between tries while throttled.'),
    lockAfter: z.number().int().min(2).max(100).default(10)
      .describe('Consecutive wrong passwords that lock the account.'),
    lockSeconds: z.number().int().min(60).max(86400).default(900)
      .describe('How long a password lock lasts (`keystep user unlock` ends it early).'),
  }).prefault({}),
  session: z.strictObject({
    ttlSeconds: z.number().int().min(300).max(86400).default(86400)
      .describe('Longest life of a sign-in session at Keystep (at most 24 h).'),
    idleSeconds: z.number().int().min(60).max(86400).default(3600)
      .describe('A session unused for this long ends (NIST AAL2: 1 hour).'),
    interactionTtlSeconds: z.number().int().min(60).max(600).default(600)
      .describe('Time a user has to finish the login pages (at most 10 minutes).'),
  }).prefault({}),
  smsOtp: z.strictObject({
    mandatory: z.boolean().default(true)
      .describe('No path skips the second factor (WSO2 SMSOTPMandatory). When false, a user with no number logs in with the password only and the tokens say so. A client can override it (`client add --mfa`).'),
    retryEnable: z.boolean().default(true)
      .describe('A wrong code shows the form again (WSO2 RetryEnable); when false a wrong code ends the login with access_denied.'),
    resendEnable: z.boolean().default(true)
      .describe('Offer "send a new code" on the code page (WSO2 ResendEnable).'),
    backupCode: z.boolean().default(true)
      .describe('Offer "use a backup code" instead of the SMS code (WSO2 BackupCode).'),
    enableByUserClaim: z.boolean().default(false)
      .describe('Honour a per-account exemption from the SMS code (`keystep user set-sms-otp <user> off`; WSO2 SMSOTPEnableByUserClaim).'),
    captureAndUpdateMobileNumber: z.boolean().default(true)
      .describe('Ask a user with no number for one during login, and save it only once a code sent to it was entered (WSO2 CaptureAndUpdateMobileNumber).'),
    tokenLength: z.number().int().min(4).max(10).default(6)
      .describe('Characters in a code (WSO2 TokenLength). NIST 800-63B asks for at least 6.'),
    alphanumeric: z.boolean().default(false)
      .describe('Codes of upper-case letters and digits without look-alikes instead of digits (WSO2 EnableAlphanumericToken).'),
    tokenExpirySeconds: z.number().int().min(30).max(600).default(300)
      .describe('Lifetime of a code (WSO2 TokenExpiryTime); at most 10 minutes.'),
    maxAttempts: z.number().int().min(1).max(10).default(5)
      .describe('Wrong entries allowed per code; then the code is dead and only a new one helps.'),
    maxResends: z.number().int().min(0).max(10).default(3)
      .describe('New codes a user may ask for in one login (WSO2 MaximumResendAttempts).'),
    resendCooldownSeconds: z.number().int().min(0).max(3600).default(30)
      .describe('Wait before a new code may be sent; it doubles with each resend.'),
    userSendLimit: z.number().int().min(1).max(1000).default(10)
      .describe('SMS per account within `userSendWindowSeconds`, across logins (WSO2 EnableUserBasedResendBlocking).'),
    userSendWindowSeconds: z.number().int().min(60).max(86400).default(3600)
      .describe('The window of `userSendLimit` (WSO2 ResendBlockDuration).'),
    lockoutThreshold: z.number().int().min(1).max(100).default(10)
      .describe('Consecutive wrong codes (SMS or backup) across logins that lock the account (WSO2 EnableAccountLockingForFailedAttempts). A resend does not reset the count.'),
    lockoutSeconds: z.number().int().min(60).max(86400).default(900)
      .describe('How long that lock lasts (`keystep user unlock` ends it early).'),
    showAuthFailureReason: z.boolean().default(true)
      .describe('Tell the user how many tries are left and that an account is locked (WSO2 showAuthFailureReason).'),
    phoneUnique: z.boolean().default(false)
      .describe('A number verified on one account may not be verified on another: refused at phone capture and on the account page (the message does not say which), and not taken from an upstream for a just-in-time account. Checked again as the number is saved, so of simultaneous verifications of one number exactly one wins, on any instance. Numbers an operator sets (`user add --phone`, `user set-phone`, `user import`) are not checked.'),
    maskVisibleDigits: z.number().int().min(0).max(6).default(4)
      .describe('Last digits of the number shown on the code page, e.g. `+44 •••• ••34 56` (WSO2 noOfDigits).'),
    message: z.string().min(1).max(640).refine((m) => m.includes('{code}'), 'must contain {code}').optional()
      .describe('Your own SMS text, the same in every language (when unset: the text `SMS_CODE` of the translations, in the language of the page that asked for the code; see "Languages"). Placeholders: `{code}`, `{service}`, `{minutes}`, `{host}` (the issuer host). Keep the last line `@{host} #{code}`: browsers use it to offer the code for autofill, bound to this site.'),
  }).prefault({}),
  sms: z.strictObject({
    sender: z.enum(['http', 'console']).default('console')
      .describe('How SMS leave Keystep: `http` (the gateway below) or `console` (development only: the log and the `/dev/sms` inbox; production refuses it).'),
    defaultCountry: z.string().regex(/^[A-Z]{2}$/, 'an ISO country code like GB').optional()
      .describe('Country of numbers typed without a country code (shown as a hint on the phone page), e.g. `GB`.'),
    allowedCountries: z.array(z.string().regex(/^(\+?\d{1,4}|[A-Za-z]{2}|\*)$/, 'a calling code like 44 or +1, an ISO country code like GB, or *')).default([])
      .describe('Destinations allowed, as calling codes (`44`, `+1`) or ISO country codes (`GB`); `*` allows all (logged as a warning at start-up). Production requires it to be set; elsewhere empty allows all. Checked before the gateway is called.'),
    velocityWindowSeconds: z.number().int().min(60).max(86400).default(3600)
      .describe('The window of `ipSendLimit` and `globalSendLimit`.'),
    ipSendLimit: z.number().int().min(1).max(100_000).default(30)
      .describe('SMS for logins from one client address per window, across accounts (against SMS pumping).'),
    globalSendLimit: z.number().int().min(1).max(10_000_000).default(1000)
      .describe('SMS for all logins per window: a ceiling on spend if everything else fails.'),
    budgets: z.strictObject({
      perNumber: z.number().int().min(1).max(10_000).default(10)
        .describe('SMS to one number per `numberWindowSeconds`, across accounts (Auth0 refuses more than 10 an hour per device).'),
      numberWindowSeconds: z.number().int().min(60).max(86400).default(3600)
        .describe('The window of `perNumber`.'),
      perPrefix: z.number().int().min(1).max(1_000_000).default(30)
        .describe('SMS to one number range (the number without its last `prefixHiddenDigits` digits) per `prefixWindowSeconds`: sequential numbers of one rented range share it.'),
      prefixWindowSeconds: z.number().int().min(60).max(86400).default(3600)
        .describe('The window of `perPrefix`.'),
      prefixHiddenDigits: z.number().int().min(1).max(8).default(4)
        .describe('Digits taken off the end of a number to make its range, for `perPrefix` and the pumping breaker.'),
      perCountry: z.number().int().min(1).max(10_000_000).default(300)
        .describe('SMS to one country per `countryWindowSeconds`, unless `countries` names it.'),
      countryWindowSeconds: z.number().int().min(60).max(86400).default(3600)
        .describe('The window of the per-country budgets.'),
      countries: z.record(z.string().regex(/^[A-Z]{2}$/, 'an ISO country code like GB'), z.number().int().min(0).max(10_000_000)).default({})
        .describe('Per-country budgets that replace `perCountry`, e.g. `{"GB": 2000, "US": 1000}` (0 sends nothing there).'),
      perDay: z.number().int().min(1).max(100_000_000).default(10_000)
        .describe('SMS for all logins per 24 hours, beside the hourly `globalSendLimit`.'),
      backoffAfter: z.number().int().min(1).max(100).default(3)
        .describe('From this send to one account or number within `backoffWindowSeconds` on, the next must wait: `backoffMinSeconds`, doubling with each send, at most `backoffMaxSeconds`, plus jitter (Auth0: 1 to 32 minutes).'),
      backoffMinSeconds: z.number().int().min(1).max(86400).default(60)
        .describe('The first back-off wait.'),
      backoffMaxSeconds: z.number().int().min(1).max(86400).default(1920)
        .describe('The longest back-off wait (32 minutes).'),
      backoffJitter: z.number().min(0).max(1).default(0.2)
        .describe('Each back-off wait is stretched by a random part of up to this fraction of it, so that waits of many accounts do not end together.'),
      backoffWindowSeconds: z.number().int().min(60).max(86400).default(3600)
        .describe('Sends older than this no longer count towards the back-off.'),
    }).prefault({}),
    pumping: z.strictObject({
      enabled: z.boolean().default(true)
        .describe('Pause a number range or country automatically when its codes are rarely entered (SMS pumping: numbers that are paid for receiving, never used).'),
      windowSeconds: z.number().int().min(300).max(7 * 86400).default(3600)
        .describe('The sliding window the ratio of codes entered to codes sent is measured over.'),
      graceSeconds: z.number().int().min(0).max(3600).default(300)
        .describe('Codes sent more recently than this are not judged yet: their users may still be typing them.'),
      threshold: z.number().min(0).max(1).default(0.2)
        .describe('Below this ratio of codes entered to codes sent, the range is paused (real users enter most of theirs).'),
      prefixMinSent: z.number().int().min(1).max(1_000_000).default(10)
        .describe('Codes a number range must have been sent in the window before its ratio is judged.'),
      countryMinSent: z.number().int().min(1).max(10_000_000).default(50)
        .describe('Codes a country must have been sent in the window before its ratio is judged.'),
    }).prefault({}),
    circuitFailures: z.number().int().min(1).max(100).default(5)
      .describe('Consecutive failed sends after which the sender fails fast for `circuitCooldownSeconds` (a circuit breaker).'),
    circuitCooldownSeconds: z.number().int().min(1).max(3600).default(30)
      .describe('How long the sender fails fast before it tries the gateway again.'),
    gateway: smsGatewaySchema,
    gateways: z.array(smsGatewayListItemSchema).max(10).default([])
      .describe('Several providers, tried in order (see "Several providers"): each item is a gateway as `sms.gateway`, plus `name`, and optionally `countries`, `notSentStatus`, `circuitFailures`, `circuitCooldownSeconds` and `receipts`. Empty: `sms.gateway` alone, named `default`.'),
  }).prefault({}),
  audit: z.strictObject({
    retentionDays: z.number().int().min(1).max(36_500).default(90)
      .describe('Days the audit trail (`auth_events`) is kept; older rows are deleted by the sweep.'),
    smsRetentionDays: z.number().int().min(1).max(36_500).default(90)
      .describe('Days the SMS send log (`sms_messages`) is kept; never less than the longest SMS budget window.'),
    stdout: z.boolean().default(false)
      .describe('Also write each audit event as a JSON line on standard output (with the logs, `"audit":true`), for a log shipper.'),
  }).prefault({}),
  // Languages of the pages and SMS (see "Languages" in the README).
  translations: z.strictObject({
    defaultLanguage: z.string().min(2).max(35).default('en')
      .describe('The language of a request whose `ui_locales` and `Accept-Language` name none Keystep has: `en`, `de`, `fr`, or one a file in `translations.dir` adds.'),
    dir: z.string().min(1).optional()
      .describe('A directory of your own translation files, `<language>.json` (`de.json`, `pt-BR.json`): each a JSON object of text keys and ICU messages. A file of a shipped language overrides those texts; another adds the language. Checked at start-up.'),
  }).prefault({}),
  federation: z.strictObject({
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000)
      .describe('Limit on every request to an upstream identity provider (discovery, the token request), in milliseconds.'),
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a name of lowercase letters, digits and -'), upstreamProviderSchema).default({})
      .describe('Upstream OpenID Connect providers by name, beside those of `keystep idp add` (a name in both: this one). Each: `issuer`, `clientId`, `clientSecret`, `scope`, `displayName`, `usecase`, `userAttribute`, `domains`, `mobileClaim`, `jit`, as the `idp add` flags (see "Signing in through another provider").'),
  }).prefault({}),
  tokens: z.strictObject({
    accessTokenTtlSeconds: z.number().int().min(60).max(86400).default(3600)
      .describe('Access token lifetime.'),
    idTokenTtlSeconds: z.number().int().min(60).max(86400).default(3600)
      .describe('ID token lifetime.'),
    authorizationCodeTtlSeconds: z.number().int().min(10).max(600).default(60)
      .describe('Authorization code lifetime.'),
    refreshTokenTtlSeconds: z.number().int().min(300).max(31_536_000).default(1_209_600)
      .describe('Absolute refresh token lifetime (rotation keeps the original expiry).'),
  }).prefault({}),
  metrics: z.strictObject({
    port: z.number().int().min(0).max(65535).optional()
      .describe('Serve Prometheus metrics at `/metrics` on a listener of their own at this port (on `metrics.host`). Unset: no such listener.'),
    host: z.string().min(1).default('127.0.0.1')
      .describe('Address of the metrics listener. Loopback by default: the scraper runs beside Keystep, or set an address only it can reach.'),
    bearerToken: z.string().min(32).max(512).regex(/^[\x21-\x7e]+$/, 'printable characters without spaces').optional()
      .describe('Serve `/metrics` on the main listener too, to requests with `Authorization: Bearer <this token>` (at least 32 characters). Unset: not on the main listener.'),
  }).prefault({}),
});

export type Config = z.output<typeof configSchema> & { issuer: string };
