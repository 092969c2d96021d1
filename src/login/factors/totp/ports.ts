// The authenticator-app factor's store. repositories/ implements it.

/** An account's confirmed authenticator app. The secret is sealed (see `secrets.ts`); the store never sees it in clear. */
export interface TotpCredential {
  accountId: string;
  sealedSecret: string;
  /** The time step of the last code accepted (enrolment's included): no code of it or before it counts again. */
  lastStep: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface TotpStore {
  find(accountId: string): Promise<TotpCredential | undefined>;
  /** Keeps a confirmed secret, replacing any earlier one, with the step of the code that confirmed it. */
  save(accountId: string, sealedSecret: string, confirmedStep: number, at: Date): Promise<void>;
  /** Takes `step` as used, only if no code of it or a later step was: false when one was (a replay). */
  acceptStep(accountId: string, step: number, at: Date): Promise<boolean>;
  /** False when there was none. */
  remove(accountId: string): Promise<boolean>;
}
