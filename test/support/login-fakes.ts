import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Config } from '../../src/config/schema.ts';
import { blankFlow, type LoginFlow } from '../../src/login/flow.ts';
import type { FactorContext, LoginContext } from '../../src/login/factor.ts';
import type { BackupCodeStore } from '../../src/login/factors/backup-code/ports.ts';
import type { PasswordHasher } from '../../src/login/passwords.ts';
import type { Account, AccountStore, AuditEvent, OtpAttempt } from '../../src/login/ports.ts';
import type { SmsBudgetPolicy } from '../../src/login/sms-codes/budgets.ts';
import type { BudgetName, OtpChallenge, OtpStore, SendBudget, SmsLog } from '../../src/login/sms-codes/ports.ts';
import { createLogger } from '../../src/shared/log.ts';
import { otpSending } from '../../src/login/sms-codes/sending.ts';
import { parseAccountName } from '../../src/shared/account-name.ts';
import type { Random } from '../../src/shared/random.ts';
import { SmsDeliveryError, SmsDestinationError, type SendStatus, type SmsMessage, type SmsReceipt, type SmsSender } from '../../src/sms/port.ts';
import { messageCatalogue } from '../../src/login/messages.ts';
import { factorModules } from '../../src/login/registry.ts';
import { TestClock } from './sms.ts';

export { TestClock } from './sms.ts';

/** The shipped texts of the chain and the factors, in every language (the SMS are made of them). */
export const shippedTexts = messageCatalogue(factorModules);

/** An account as the stores return it, with what a test sets. */
export function anAccount(overrides: Partial<Account> = {}): Account {
  return {
    id: '00000000-0000-0000-0000-0000000000a1', domain: 'primary', username: 'ada', passwordHash: 'hash:right', phone: '+447700900123', phoneVerifiedAt: new Date('2026-01-01T00:00:00Z'),
    smsOtpExempt: false, disabled: false, failedOtpCount: 0, otpLockedUntil: null, signOuts: 0, createdAt: new Date('2026-01-01T00:00:00Z'), factors: [],
    ...overrides,
  };
}

/**
 * An in-memory account store with the lock after wrong codes as the real one counts it. `account` is
 * the one a test signs in with (`state.account` is its current row); `others` exist beside it, to
 * hold numbers.
 */
export function fakeAccounts(account: Account, others: readonly Account[] = []) {
  const state = { account: { ...account }, reads: 0, others: others.map((a) => ({ ...a })) };
  const all = () => [state.account, ...state.others];
  const store: AccountStore = {
    findByUsername: async (u) => { const n = parseAccountName(u); return store.findInDomain(n.domain, n.username); },
    findInDomain: async (domain, u) => { const a = all().find((x) => x.domain === domain && x.username === u.toLowerCase()); return a && { ...a }; },
    findById: async (id) => { state.reads++; const a = all().find((x) => x.id === id); return a && { ...a }; },
    findIdsByVerifiedPhone: async (phone) => all().filter((a) => a.phone === phone && a.phoneVerifiedAt).map((a) => a.id),
    setPhone: async (id, phone, verifiedAt) => {
      if (id === state.account.id) state.account = { ...state.account, phone, phoneVerifiedAt: verifiedAt };
      else state.others = state.others.map((a) => (a.id === id ? { ...a, phone, phoneVerifiedAt: verifiedAt } : a));
    },
    // The check and the save in one step, as the real store makes them one transaction.
    saveVerifiedPhone: async (id, phone, verifiedAt, unique) => {
      if (unique && all().some((a) => a.id !== id && a.phone === phone && a.phoneVerifiedAt)) return false;
      await store.setPhone(id, phone, verifiedAt);
      return true;
    },
    replacePasswordHash: async (id, expected, next) => {
      if (id !== state.account.id || state.account.passwordHash !== expected) return false;
      state.account = { ...state.account, passwordHash: next };
      return true;
    },
    // Refused while locked; a lock that ran out counts afresh from zero.
    reserveOtpAttempt: async (id, now, lockAfter, lockUntil): Promise<OtpAttempt> => {
      // Only the account signing in is counted: a factor counting another's would be a bug.
      if (id !== state.account.id) throw new Error(`attempt taken on another account (${id})`);
      const a = state.account;
      if (a.otpLockedUntil && a.otpLockedUntil > now) return { taken: false, lockedUntil: a.otpLockedUntil };
      const failures = (a.otpLockedUntil ? 0 : a.failedOtpCount) + 1;
      state.account = { ...a, failedOtpCount: failures, otpLockedUntil: failures >= lockAfter ? lockUntil : null };
      return { taken: true, failures };
    },
    clearOtpFailures: async (id) => {
      if (id !== state.account.id) throw new Error(`failures cleared on another account (${id})`);
      state.account = { ...state.account, failedOtpCount: 0, otpLockedUntil: null };
    },
  };
  return { store, state };
}

export function recordingAudit() {
  const events: AuditEvent[] = [];
  return { events, audit: { record: async (e: AuditEvent) => { events.push(e); } } };
}

/** A factor's context for one request; `account` is what the first stage found. */
export function factorContext<Slot>(options: { uid?: string; clientId?: string; ip?: string | null; flow?: Partial<LoginFlow>; account?: Account; slot?: Slot } = {}): FactorContext<Slot> {
  const uid = options.uid ?? 'login-1';
  const flow = { ...blankFlow(uid), ...(options.account ? { accountId: options.account.id, accountSignOuts: options.account.signOuts } : {}), ...options.flow };
  const context: LoginContext = {
    uid, clientId: options.clientId ?? 'app', ip: options.ip ?? '127.0.0.1', policy: { mfaRequested: false, clientMfa: null }, flow,
    account: async () => {
      if (!options.account) throw new Error('no account in this context');
      return options.account;
    },
  };
  return { ...context, slot: options.slot };
}

/** Randomness that replays the integers it is given, so codes are known; it throws once they run out. */
export function scriptedRandom(values: readonly number[] = []) {
  const queue = [...values];
  const random: Random = {
    bytes: (n) => Buffer.alloc(n, 7),
    int: (max) => {
      const next = queue.shift();
      if (next === undefined) throw new Error('the scripted randomness ran out');
      return next % max;
    },
  };
  return random;
}

/** An in-memory OtpStore with the port's conditions: attempts capped, consumed once, a replace only on the send count seen. */
export function fakeOtpStore() {
  const challenges = new Map<string, OtpChallenge>();
  const copy = (c: OtpChallenge | undefined) => c && { ...c };
  const store: OtpStore = {
    find: async (uid) => copy(challenges.get(uid)),
    async create(c) {
      if (challenges.has(c.flowUid)) return undefined;
      const row: OtpChallenge = { ...c, attempts: 0, sends: 1, lastSend: 'sent', consumed: false };
      challenges.set(c.flowUid, row);
      return copy(row);
    },
    async replaceCode(uid, code, seenSends) {
      const old = challenges.get(uid);
      if (!old || old.consumed || old.sends !== seenSends) return undefined;
      challenges.set(uid, { ...old, codeHmac: code.codeHmac, destination: code.destination, expiresAt: code.expiresAt, attempts: 0, sends: old.sends + 1, lastSentAt: code.sentAt, lastSend: 'sent' });
      return { ...old };
    },
    async recordSendOutcome(uid, codeHmac, outcome) {
      const c = challenges.get(uid);
      if (!c || c.codeHmac !== codeHmac) return;
      challenges.set(uid, { ...c, lastSend: outcome, sends: outcome === 'uncertain' ? c.sends : c.sends - 1 });
    },
    async restoreCode(uid, failedHmac, previous) {
      const c = challenges.get(uid);
      if (!c || c.codeHmac !== failedHmac) return;
      challenges.set(uid, {
        ...c, codeHmac: previous.codeHmac, destination: previous.destination, expiresAt: previous.expiresAt, attempts: c.attempts + previous.attempts,
        sends: previous.sends, lastSentAt: previous.lastSentAt, lastSend: previous.lastSend,
      });
    },
    async countAttempt(uid, maxAttempts) {
      const c = challenges.get(uid);
      if (!c || c.consumed || c.attempts >= maxAttempts) return undefined;
      const counted = { ...c, attempts: c.attempts + 1 };
      challenges.set(uid, counted);
      return { ...counted };
    },
    async consume(uid) {
      const c = challenges.get(uid);
      if (!c || c.consumed) return false;
      challenges.set(uid, { ...c, consumed: true });
      return true;
    },
    async reopen(uid, at) {
      const c = challenges.get(uid);
      if (c?.consumed) challenges.set(uid, { ...c, consumed: false, expiresAt: at });
    },
  };
  return { store, challenges };
}

interface LoggedSms {
  id: string;
  at: Date;
  accountId: string;
  flowUid: string | null;
  ip: string | null;
  destination: string;
  status: SendStatus;
  numberKey?: string;
  prefix?: string;
  country?: string;
  nextSendAt?: Date;
}

/**
 * An in-memory SmsLog with the budgets of keystep_take_sms: they count what reached the gateway or
 * may have (reserved, sent, uncertain), and a spent budget frees a send when its oldest counted send
 * leaves the window; the back-off as there. (The pumping breaker is tested against Postgres.)
 */
export function fakeSmsLog() {
  const rows: LoggedSms[] = [];
  const paused = new Set<string>();
  let ids = 0;
  const counted = (r: LoggedSms, since: Date) => r.at > since && (r.status === 'reserved' || r.status === 'sent' || r.status === 'uncertain');
  const retryAt = (matching: LoggedSms[], at: Date, budget: SendBudget) => {
    const oldest = Math.min(...matching.map((r) => r.at.getTime()));
    return new Date(oldest + (at.getTime() - budget.since.getTime()));
  };
  const log: SmsLog = {
    async reserve(q) {
      if (paused.has(q.prefix)) return { refused: 'paused', scope: 'prefix', range: q.prefix };
      if (paused.has(q.country)) return { refused: 'paused', scope: 'country', range: q.country };
      const keys: Record<BudgetName, (r: LoggedSms) => boolean> = {
        login: (r) => r.flowUid === q.flowUid, account: (r) => r.accountId === q.accountId, number: (r) => r.numberKey === q.numberKey,
        prefix: (r) => r.prefix === q.prefix, address: (r) => q.ip !== null && r.ip === q.ip, country: (r) => r.country === q.country,
        hour: () => true, day: () => true,
      };
      for (const [name, budget] of Object.entries(q.budgets) as Array<[BudgetName, SendBudget]>) {
        const matching = rows.filter((r) => keys[name](r) && counted(r, budget.since));
        if (matching.length >= budget.limit) return { refused: name, retryAt: retryAt(matching, q.at, budget) };
      }
      const mine = rows.filter((r) => counted(r, q.backoff.since) && (r.accountId === q.accountId || r.numberKey === q.numberKey));
      const waits = mine.flatMap((r) => (r.nextSendAt && r.nextSendAt > q.at ? [r.nextSendAt.getTime()] : []));
      if (waits.length) return { refused: 'backoff', retryAt: new Date(Math.max(...waits)) };
      const index = Math.max(mine.filter((r) => r.accountId === q.accountId).length, mine.filter((r) => r.numberKey === q.numberKey).length) + 1;
      const wait = index < q.backoff.after ? 0 : Math.min(q.backoff.maxSeconds, q.backoff.minSeconds * 2 ** (index - q.backoff.after)) * (1 + q.backoff.jitter);
      const id = `sms-${++ids}`;
      rows.push({
        id, at: q.at, accountId: q.accountId, flowUid: q.flowUid, ip: q.ip, destination: q.destination, status: 'reserved',
        numberKey: q.numberKey, prefix: q.prefix, country: q.country, ...(wait > 0 ? { nextSendAt: new Date(q.at.getTime() + wait * 1000) } : {}),
      });
      return { id };
    },
    async release(id) {
      const i = rows.findIndex((r) => r.id === id && r.status === 'reserved');
      if (i >= 0) rows.splice(i, 1);
    },
  };
  return {
    log,
    rows,
    /** Pauses a prefix or country, as the breaker or `keystep abuse pause` would. */
    pause(range: string) {
      paused.add(range);
    },
    settle(id: string | undefined, status: Exclude<SendStatus, 'reserved'>) {
      const row = rows.find((r) => r.id === id);
      if (row) row.status = status;
    },
    /** Sends made by another login before this test's: they spend the same budgets. */
    earlier(row: Omit<LoggedSms, 'id' | 'status'>) {
      rows.push({ ...row, id: `sms-${++ids}`, status: 'sent' });
    },
  };
}

/**
 * A recording SmsSender. `failNext` makes the next sends throw (SmsDeliveryError for a failing
 * gateway, SmsDestinationError for a refused number); with a send log it settles each reservation
 * as the real send log does.
 */
export function recordingSender(sendLog?: { settle(id: string | undefined, status: Exclude<SendStatus, 'reserved'>): void }) {
  const sent: SmsMessage[] = [];
  const attempts: SmsMessage[] = [];
  const failures: Error[] = [];
  const sender: SmsSender = {
    async send(message): Promise<SmsReceipt> {
      attempts.push(message);
      const failure = failures.shift();
      if (failure) {
        // A refused number is refused before the send log (the destination policy wraps it): its
        // reservation is left for the caller to give back.
        if (!(failure instanceof SmsDestinationError)) sendLog?.settle(message.logId, failure instanceof SmsDeliveryError ? failure.sendStatus : 'unreached');
        throw failure;
      }
      sent.push(message);
      sendLog?.settle(message.logId, 'sent');
      return { messageId: `SM${sent.length}`, status: 201 };
    },
  };
  return {
    sender,
    sent,
    attempts,
    failNext(...errors: Error[]) { failures.push(...errors); },
    /** The code of the newest SMS that went to a number. */
    lastCode(to: string): string {
      const code = sent.filter((m) => m.to === to).at(-1)?.code;
      if (code === undefined) throw new Error(`no code went to ${to}`);
      return code;
    },
  };
}

/** An in-memory BackupCodeStore: a code is consumed once, a fresh set replaces the whole old one. */
export function fakeBackupCodes() {
  const codes: { id: string; accountId: string; hash: string; used: boolean }[] = [];
  let ids = 0;
  const store: BackupCodeStore = {
    async replaceAll(accountId, hashes) {
      for (let i = codes.length - 1; i >= 0; i--) if (codes[i]!.accountId === accountId) codes.splice(i, 1);
      for (const hash of hashes) codes.push({ id: `code-${++ids}`, accountId, hash, used: false });
    },
    listUnused: async (accountId) => codes.filter((c) => c.accountId === accountId && !c.used).map(({ id, hash }) => ({ id, hash })),
    async consume(id) {
      const code = codes.find((c) => c.id === id);
      if (!code || code.used) return false;
      code.used = true;
      return true;
    },
    countUnused: async (accountId) => codes.filter((c) => c.accountId === accountId && !c.used).length,
  };
  return { store, codes };
}

/** A hasher whose hashes are readable (and whose verifications are counted): the real one is argon2id, tested on its own. */
export function fakeHasher() {
  const calls = { hash: 0, verify: 0, dummy: 0 };
  const hasher: PasswordHasher = {
    hash: async (secret) => { calls.hash++; return `hash:${secret}`; },
    verify: async (hash, secret) => { calls.verify++; return hash === `hash:${secret}`; },
    verifyDummy: async () => { calls.dummy++; },
  };
  return { hasher, calls };
}

export const testOtpKey: KeyObject = createSecretKey(Buffer.alloc(32, 1));

/** The `smsOtp` settings the factors and the sending are built from, small enough for short tests. */
export const smsOtpSettings: Config['smsOtp'] = {
  mandatory: true, retryEnable: true, resendEnable: true, backupCode: true, enableByUserClaim: false, captureAndUpdateMobileNumber: true,
  tokenLength: 6, alphanumeric: false, tokenExpirySeconds: 300, maxAttempts: 5, maxResends: 3, resendCooldownSeconds: 30,
  userSendLimit: 10, userSendWindowSeconds: 3600, lockoutThreshold: 3, lockoutSeconds: 900, showAuthFailureReason: true,
  phoneUnique: false, maskVisibleDigits: 4, message: 'Your {service} code is {code}.\n\n@{host} #{code}',
};

const silentLog = createLogger('silent');

/**
 * The budgets as the composition root builds them from the default settings, with the per-login,
 * per-account, per-address and hourly ones from `settings` and `velocity`; the back-off starts late
 * enough not to meet the tests of the per-login cooldown unless `budgets` says otherwise.
 */
export function testBudgets(settings: Config['smsOtp'], velocity: { windowSeconds: number; ipSendLimit: number; globalSendLimit: number }, budgets: Partial<SmsBudgetPolicy> = {}): SmsBudgetPolicy {
  return {
    perLogin: settings.maxResends + 1,
    account: { limit: settings.userSendLimit, windowSeconds: settings.userSendWindowSeconds },
    address: { limit: velocity.ipSendLimit, windowSeconds: velocity.windowSeconds },
    hour: { limit: velocity.globalSendLimit, windowSeconds: velocity.windowSeconds },
    perDay: 10_000,
    number: { limit: 1000, windowSeconds: 3600 },
    prefix: { limit: 1000, windowSeconds: 3600, hiddenDigits: 4 },
    country: { limit: 1000, windowSeconds: 3600, limits: {} },
    backoff: { after: 100, minSeconds: 60, maxSeconds: 1920, jitter: 0.2, windowSeconds: 3600 },
    pumping: { enabled: true, windowSeconds: 3600, graceSeconds: 300, threshold: 0.2, prefixMinSent: 10, countryMinSent: 50 },
    ...budgets,
  };
}

/**
 * Everything sending SMS codes needs, in memory: the real sending over fake stores, a recording
 * sender, a clock the test moves and scripted codes. `settings` is the one `smsOtp` object the
 * sending and the factors share (as the composition root passes it to both).
 */
export function smsCodeFakes(options: { account: Account; others?: Account[]; codes?: number[]; settings?: Partial<Config['smsOtp']>; velocity?: Partial<{ windowSeconds: number; ipSendLimit: number; globalSendLimit: number }>; budgets?: Partial<SmsBudgetPolicy> }) {
  const clock = new TestClock(Date.parse('2026-03-01T09:00:00Z'));
  const random = scriptedRandom(options.codes ?? []);
  const accounts = fakeAccounts(options.account, options.others);
  const otp = fakeOtpStore();
  const smsLog = fakeSmsLog();
  const sms = recordingSender(smsLog);
  const { events, audit } = recordingAudit();
  const settings = { ...smsOtpSettings, ...options.settings };
  const sending = otpSending({
    otp: otp.store, smsLog: smsLog.log, sender: sms.sender, audit, clock, random, hmacKey: testOtpKey, policy: settings,
    serviceName: 'Keystep', issuerHost: 'id.example.test', numberKey: testOtpKey, log: silentLog, texts: shippedTexts.page,
    budgets: testBudgets(settings, { windowSeconds: 3600, ipSendLimit: 30, globalSendLimit: 1000, ...options.velocity }, options.budgets),
  });
  return { clock, random, accounts, otp, smsLog, sms, events, audit, sending, settings };
}
