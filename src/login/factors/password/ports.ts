// The password factor's store: wrong passwords per username. repositories/ implements it.

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
