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
  createdAt: Date;
}

export interface AccountStore {
  findByUsername(username: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  recordPasswordFailure(id: string, at: Date, lockAfter: number, lockUntil: Date): Promise<number>;
  clearPasswordFailures(id: string): Promise<void>;
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
