// The passkey factor's store. repositories/ implements it.

/** A passkey of an account: what checks its assertions, and what the page lists. */
export interface PasskeyCredential {
  /** The credential id the authenticator chose (base64url). */
  id: string;
  accountId: string;
  publicKey: Uint8Array;
  /** The signature counter last reported; 0 for an authenticator that keeps none. */
  counter: number;
  transports: string[];
  /** Synced to other devices (a multi-device passkey) rather than bound to one authenticator. */
  backedUp: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface PasskeyStore {
  list(accountId: string): Promise<PasskeyCredential[]>;
  find(accountId: string, id: string): Promise<PasskeyCredential | undefined>;
  /** False when a credential of that id exists already (on any account). */
  add(credential: Omit<PasskeyCredential, 'lastUsedAt'>): Promise<boolean>;
  /**
   * Takes an assertion's counter, only if it grew (or both are 0, an authenticator that keeps no
   * counter): false when it did not (a cloned authenticator or a replay), or the credential is gone.
   */
  use(accountId: string, id: string, counter: number, backedUp: boolean, at: Date): Promise<boolean>;
  /** False when the account had no such passkey. */
  remove(accountId: string, id: string): Promise<boolean>;
}
