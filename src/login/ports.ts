// What the login chain needs from the outside world. repositories/ and sms/ implement these.

export interface Account {
  id: string;
  username: string;
  passwordHash: string;
  phone: string | null;
  phoneVerifiedAt: Date | null;
  smsOtpExempt: boolean;
  disabled: boolean;
  failedPasswordCount: number;
  lastFailedPasswordAt: Date | null;
  lockedUntil: Date | null;
  failedOtpCount: number;
  otpLockedUntil: Date | null;
  createdAt: Date;
}

export interface AccountStore {
  findByUsername(username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  recordPasswordFailure(id: string, at: Date, lockAfter: number, lockUntil: Date): Promise<number>;
  clearPasswordFailures(id: string): Promise<void>;
  /** Counts one wrong code (SMS or backup) atomically, locking at lockAfter; returns the new count. */
  recordOtpFailure(id: string, lockAfter: number, lockUntil: Date): Promise<number>;
  clearOtpFailures(id: string): Promise<void>;
}

/** The code sent for one login, keyed by its interaction uid. Only an HMAC of the code is kept. */
export interface OtpChallenge {
  flowUid: string;
  accountId: string;
  destination: string;
  codeHmac: string;
  expiresAt: Date;
  attempts: number;
  sends: number;
  lastSentAt: Date;
  sendFailed: boolean;
  consumed: boolean;
}

export interface OtpStore {
  find(flowUid: string): Promise<OtpChallenge | undefined>;
  /** Creates the challenge unless one exists; false when another request created it first. */
  create(challenge: Omit<OtpChallenge, 'attempts' | 'sends' | 'sendFailed' | 'consumed'>): Promise<boolean>;
  /** A new code replaces the old one: its attempts start at zero and the send count goes up. */
  replaceCode(flowUid: string, codeHmac: string, expiresAt: Date, sentAt: Date): Promise<void>;
  setSendFailed(flowUid: string, failed: boolean): Promise<void>;
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

export interface SmsLog {
  /** SMS sent (or attempted) to this account since the given time, across logins. */
  countForAccountSince(accountId: string, since: Date): Promise<number>;
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
