import { blankFlow, type LoginFlow } from '../../src/login/flow.ts';
import type { FactorContext, LoginContext } from '../../src/login/factor.ts';
import type { Account, AccountStore, AuditEvent, OtpAttempt } from '../../src/login/ports.ts';

/** An account as the stores return it, with what a test sets. */
export function anAccount(overrides: Partial<Account> = {}): Account {
  return {
    id: '00000000-0000-0000-0000-0000000000a1', username: 'ada', passwordHash: 'hash:right', phone: '+447700900123', phoneVerifiedAt: new Date('2026-01-01T00:00:00Z'),
    smsOtpExempt: false, disabled: false, failedOtpCount: 0, otpLockedUntil: null, signOuts: 0, createdAt: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

/** An in-memory account store with the lock after wrong codes as the real one counts it. */
export function fakeAccounts(account: Account) {
  const state = { account: { ...account }, reads: 0 };
  const store: AccountStore = {
    findByUsername: async (u) => (u.toLowerCase() === state.account.username ? { ...state.account } : undefined),
    findById: async (id) => { state.reads++; return id === state.account.id ? { ...state.account } : undefined; },
    findIdsByVerifiedPhone: async (phone) => (state.account.phone === phone && state.account.phoneVerifiedAt ? [state.account.id] : []),
    setPhone: async (_id, phone, verifiedAt) => { state.account = { ...state.account, phone, phoneVerifiedAt: verifiedAt }; },
    reserveOtpAttempt: async (_id, now, lockAfter, lockUntil): Promise<OtpAttempt> => {
      const a = state.account;
      if (a.otpLockedUntil && a.otpLockedUntil > now) return { taken: false, lockedUntil: a.otpLockedUntil };
      const failures = (a.otpLockedUntil ? 0 : a.failedOtpCount) + 1;
      state.account = { ...a, failedOtpCount: failures, otpLockedUntil: failures >= lockAfter ? lockUntil : null };
      return { taken: true, failures };
    },
    clearOtpFailures: async () => { state.account = { ...state.account, failedOtpCount: 0, otpLockedUntil: null }; },
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
