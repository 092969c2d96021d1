// What the login chain and every factor need from the outside world. repositories/ implement these;
// a factor's own stores are ports in its folder.
import type { LoginFlow } from './flow.ts';

export type { LoginFlow } from './flow.ts';

export interface Account {
  id: string;
  /** The account's domain (`primary` unless created in another); see src/shared/account-name.ts. */
  domain: string;
  username: string;
  passwordHash: string;
  phone: string | null;
  phoneVerifiedAt: Date | null;
  smsOtpExempt: boolean;
  disabled: boolean;
  failedOtpCount: number;
  otpLockedUntil: Date | null;
  /** How many times the account was signed out everywhere (a new password, number, a disable, `user revoke`). */
  signOuts: number;
  createdAt: Date;
  /** The factors beyond the password and the number that the account has, read with it (see EnrolledFactor). */
  factors: readonly EnrolledFactor[];
}

/** A factor an account has: its id, when it was added, when it last passed a login. */
export interface EnrolledFactor {
  id: string;
  enrolledAt: Date;
  lastUsedAt: Date | null;
}

export interface AccountStore {
  /** The account a typed name means: `alice` in `primary`, `partners/alice` in `partners`. */
  findByUsername(name: string): Promise<Account | undefined>;
  /** The account of this username in this domain (for upstream providers, which search domains in order). */
  findInDomain(domain: string, username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /** Ids of accounts on which this number is verified. */
  findIdsByVerifiedPhone(phone: string): Promise<string[]>;
  setPhone(id: string, phone: string | null, verifiedAt: Date | null): Promise<void>;
  /**
   * Saves a number the user has just proved with a code, verified at `verifiedAt`. With `unique`
   * (`smsOtp.phoneUnique`) it is refused, saving nothing, while another account has that number
   * verified, and the check is part of the save: of simultaneous saves of one number on several
   * accounts, on any instance, exactly one wins. False when refused.
   */
  saveVerifiedPhone(id: string, phone: string, verifiedAt: Date, unique: boolean): Promise<boolean>;
  /**
   * Replaces an imported password hash with Keystep's own, only while the account still has the
   * one the sign-in checked (an operator's new password meanwhile wins). False when it had changed.
   */
  replacePasswordHash(id: string, expected: string, next: string): Promise<boolean>;
  /**
   * Takes one attempt at a code (SMS or backup) before it is compared, atomically: it counts as a
   * wrong code until `clearOtpFailures` says it was right. Refused while the account is locked; the
   * attempt that reaches lockAfter sets the lock for every attempt after it.
   */
  reserveOtpAttempt(id: string, now: Date, lockAfter: number, lockUntil: Date): Promise<OtpAttempt>;
  clearOtpFailures(id: string): Promise<void>;
}

export type OtpAttempt = { taken: true; failures: number } | { taken: false; lockedUntil: Date };

/** One audit record. Never put a secret here: no password, code, token or full phone number. */
export interface AuditEvent {
  event: string;
  result: 'success' | 'failure' | 'info';
  accountId?: string | null;
  step?: string | null;
  reason?: string | null;
  clientId?: string | null;
  flowUid?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

/** Runs `work` unless another change to this account's factors is under way (on any instance): then it is refused. */
export type AccountLock = <T>(accountId: string, work: () => Promise<T>) => Promise<{ ran: true; value: T } | { ran: false }>;

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

export interface FlowStore {
  find(uid: string): Promise<LoginFlow | undefined>;
  /** Creates the flow, or returns the one a concurrent request created first. */
  findOrCreate(uid: string, expiresAt: Date): Promise<LoginFlow>;
  /**
   * Saves only if nobody saved since the flow was read (compare-and-set on version): of two requests
   * racing in one login, the later cannot move it on. False when the caller's copy was stale.
   */
  save(flow: LoginFlow): Promise<boolean>;
  /**
   * Saves only `data` (messages, choices), checked against the version but without moving it on: a
   * message for a losing request can never make the winner's progress fail.
   */
  saveData(flow: Pick<LoginFlow, 'uid' | 'data' | 'version'>): Promise<boolean>;
  /**
   * Saves the finished login and marks it as being handed over, in one compare-and-set: true for
   * exactly one of any number of racing requests ('claimed'; the others 'busy'). A mark older than a
   * short lease (its request died) may be taken again. A login of an account disabled or signed out
   * everywhere since its first factor passed is removed instead ('ended'): it starts again. Claimed,
   * it says when the account was last signed out (to date the new session after it), and the same
   * statement notes `used.factors` as used at `used.at` in the account's factor rows (creating a
   * row that is not there).
   */
  claimHandover(flow: LoginFlow, used?: { factors: readonly string[]; at: Date }): Promise<{ claimed: true; signedOutAt: Date | null } | { claimed: false; ended: boolean }>;
  /** Takes the mark back when the provider failed to take the login, so a reload can finish it. */
  releaseHandover(uid: string): Promise<void>;
  /** False when the flow was already gone (ended by a change to its account, or expired). */
  remove(uid: string): Promise<boolean>;
}
