// What sending and checking SMS codes needs: the login's code and the send log with its budgets.
import type { Delivery } from '../../sms/port.ts';

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
  /**
   * A code entered right whose number then could not be saved (verified on another account
   * meanwhile): the challenge is no longer used, so that a resend to another number may replace it,
   * within the login's send count and cooldown, but its code is dead (expired at `at`).
   */
  reopen(flowUid: string, at: Date): Promise<void>;
}

export interface SendBudget {
  since: Date;
  limit: number;
}

/** The budgets an SMS is counted against (see budgets.ts for what each counts). */
export const BUDGET_NAMES = ['login', 'account', 'number', 'prefix', 'address', 'country', 'hour', 'day'] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

/** One SMS to take from the budgets, with every key it is counted under. */
export interface SmsReservation {
  accountId: string;
  flowUid: string;
  /** The number masked, for operators. */
  destination: string;
  ip: string | null;
  at: Date;
  /** An HMAC of the number: sends to one number are counted without storing it. */
  numberKey: string;
  /** The number without its last digits (`+44740012`). */
  prefix: string;
  /** ISO code, or the calling code when the number belongs to no single country. */
  country: string;
  budgets: Partial<Record<BudgetName, SendBudget>>;
  /**
   * After `after - 1` counted sends to the account or the number since `since`, each further send
   * sets a wait before the next: `minSeconds` doubling, at most `maxSeconds`, stretched by `jitter` (0 to 1).
   */
  backoff: { since: Date; after: number; minSeconds: number; maxSeconds: number; jitter: number };
  /**
   * The pumping breaker: counted sends between `since` and `until` (old enough for their code to have
   * been entered) to this prefix or country; with at least the minimum of them and a ratio of codes
   * entered below `threshold`, the range is paused.
   */
  breaker: { enabled: boolean; since: Date; until: Date; prefixMinSent: number; countryMinSent: number; threshold: number };
}

export type Reserved =
  | { id: string }
  | { refused: BudgetName | 'backoff'; retryAt: Date | null }
  /** The range is paused; `pausedNow` when this request's judgement paused it. */
  | { refused: 'paused'; scope: 'prefix' | 'country'; range: string; pausedNow?: { sent: number; entered: number } };

export interface SmsLog {
  /**
   * Takes one SMS from every budget at once, under one lock shared by all instances (simultaneous
   * logins cannot overspend any of them): records a reserved send and returns its id, or says which
   * budget or pause refused it and when a send frees at the earliest. The sender fills the record
   * in once the SMS went.
   */
  reserve(reservation: SmsReservation): Promise<Reserved>;
  /** Gives back a reservation that was not used. */
  release(id: string): Promise<void>;
}

/** What the providers' delivery receipts said of a login's sends (see `sms.gateways[].receipts`). */
export interface SmsDeliveries {
  /** What the receipts said of this login's newest send; undefined when none came. */
  lastDelivery(flowUid: string): Promise<Delivery | undefined>;
}
