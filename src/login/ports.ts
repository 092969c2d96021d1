// What the login chain needs from the outside world. repositories/ and sms/ implement these.

export interface Account {
  id: string;
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
}

export interface AccountStore {
  findByUsername(username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /** Ids of accounts on which this number is verified. */
  findIdsByVerifiedPhone(phone: string): Promise<string[]>;
  setPhone(id: string, phone: string | null, verifiedAt: Date | null): Promise<void>;
  /**
   * Takes one attempt at a code (SMS or backup) before it is compared, atomically: it counts as a
   * wrong code until `clearOtpFailures` says it was right. Refused while the account is locked; the
   * attempt that reaches lockAfter sets the lock for every attempt after it.
   */
  reserveOtpAttempt(id: string, now: Date, lockAfter: number, lockUntil: Date): Promise<OtpAttempt>;
  clearOtpFailures(id: string): Promise<void>;
}

export type OtpAttempt = { taken: true; failures: number } | { taken: false; lockedUntil: Date };

/** Wrong passwords per username (known or not), so throttling and locking reveal no account. */
export interface PasswordFailures {
  failures: number;
  lastFailureAt: Date;
  lockedUntil: Date | null;
}

/** What the password step's throttle and lock allow, for one attempt made at `now`. */
export interface PasswordAttemptPolicy {
  throttleAfter: number;
  maxDelaySeconds: number;
  lockAfter: number;
  /** The lock set by the attempt that reaches lockAfter. */
  lockUntil: Date;
}

export type PasswordAttempt =
  | { taken: true; failures: number; lockedUntil: Date | null }
  | { taken: false; record: PasswordFailures };

/** Counts of wrong passwords per username, keyed in the store as its account lookup matches names (case folded). */
export interface PasswordFailureStore {
  find(usernameKey: string): Promise<PasswordFailures | undefined>;
  /**
   * Takes one attempt before the password is checked, atomically: it counts as a wrong password
   * until `clear` says it was right. Refused (nothing counted) while the username is locked or
   * throttled; the attempt that reaches lockAfter sets the lock for every attempt after it.
   */
  reserve(usernameKey: string, now: Date, policy: PasswordAttemptPolicy): Promise<PasswordAttempt>;
  clear(usernameKey: string): Promise<void>;
}

/**
 * What became of a login's last code: sent, not sent (the gateway failed or was not reached: it
 * does not count as a send), refused (the number cannot get SMS: not a send either), or uncertain
 * (it may have gone out, so it counts).
 */
export type LastSend = 'sent' | 'failed' | 'refused' | 'uncertain';

/** The code sent for one login, keyed by its interaction uid. Only an HMAC of the code is kept. */
export interface OtpChallenge {
  flowUid: string;
  accountId: string;
  destination: string;
  codeHmac: string;
  expiresAt: Date;
  attempts: number;
  /** Codes of this login that went out or may have (one that surely did not is not counted). */
  sends: number;
  lastSentAt: Date;
  lastSend: LastSend;
  consumed: boolean;
}

export interface OtpStore {
  find(flowUid: string): Promise<OtpChallenge | undefined>;
  /** Creates the challenge unless one exists; undefined when another request created it first, or the login's flow is gone. */
  create(challenge: Omit<OtpChallenge, 'attempts' | 'sends' | 'lastSend' | 'consumed'>): Promise<OtpChallenge | undefined>;
  /**
   * A new code replaces the old one: its attempts start at zero and the send count goes up. Only if
   * the send count is still `seenSends`, so two racing resends cannot both send. Returns the replaced
   * code as it was at that moment, or undefined when another resend won.
   */
  replaceCode(flowUid: string, code: { codeHmac: string; destination: string; expiresAt: Date; sentAt: Date }, seenSends: number): Promise<OtpChallenge | undefined>;
  /**
   * Records what became of the code `codeHmac` (if it is still the login's code). A code that surely
   * did not go out (failed, refused) is taken off the send count again.
   */
  recordSendOutcome(flowUid: string, codeHmac: string, outcome: Exclude<LastSend, 'sent'>): Promise<void>;
  /**
   * A new code that surely did not go out gives the login back the code it replaced (if `failedHmac`
   * is still the login's code), with the attempts made on both: the code the user has keeps working.
   */
  restoreCode(flowUid: string, failedHmac: string, previous: OtpChallenge): Promise<void>;
  /**
   * Counts one attempt, atomically, if the code is unconsumed and has attempts left. Returns the
   * challenge as it is after counting, or undefined when no attempt may be made.
   */
  countAttempt(flowUid: string, maxAttempts: number): Promise<OtpChallenge | undefined>;
  /** Marks the code used; false when another request used it first. */
  consume(flowUid: string): Promise<boolean>;
}

export interface BackupCodeStore {
  listUnused(accountId: string): Promise<{ id: string; hash: string }[]>;
  /** Marks one code used; false when it was already used. */
  consume(id: string): Promise<boolean>;
  countUnused(accountId: string): Promise<number>;
}

export interface SendBudget {
  since: Date;
  limit: number;
}

export interface SmsLog {
  /**
   * Takes one SMS from the budgets: the account's, the requesting address's and everyone's (all
   * reservations are serialised, so simultaneous logins cannot overspend any of them). Records a
   * reserved send and returns its id, or names the budget that is spent and when it frees a send at
   * the earliest. The sender fills the record in once the SMS went.
   */
  reserve(reservation: {
    accountId: string; flowUid: string; destination: string; ip: string | null; at: Date;
    account: SendBudget; perIp: SendBudget; global: SendBudget;
  }): Promise<{ id: string } | { refused: 'account' | 'ip' | 'global'; retryAt: Date | null }>;
  /** Gives back a reservation that was not used. */
  release(id: string): Promise<void>;
}

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

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/** Keystep's own record of one login in progress, keyed by the provider's interaction uid. */
export interface LoginFlow {
  uid: string;
  accountId: string | null;
  passed: string[];
  amr: string[];
  data: Record<string, unknown>;
  version: number;
  /** The account's sign-out count when its first factor passed: the login is handed over only while it holds. */
  accountSignOuts: number | null;
  /** Another request is handing this finished login to the provider (see claimHandover). */
  handingOver: boolean;
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
   * it says when the account was last signed out (to date the new session after it).
   */
  claimHandover(flow: LoginFlow): Promise<{ claimed: true; signedOutAt: Date | null } | { claimed: false; ended: boolean }>;
  /** Takes the mark back when the provider failed to take the login, so a reload can finish it. */
  releaseHandover(uid: string): Promise<void>;
  /** False when the flow was already gone (ended by a change to its account, or expired). */
  remove(uid: string): Promise<boolean>;
}
