// The backup-code factor's store. repositories/ implements it.

export interface BackupCodeStore {
  /** Replaces the account's whole set with these salted hashes. */
  replaceAll(accountId: string, hashes: string[]): Promise<void>;
  listUnused(accountId: string): Promise<{ id: string; hash: string }[]>;
  /** Marks one code used; false when it was already used. */
  consume(id: string): Promise<boolean>;
  countUnused(accountId: string): Promise<number>;
}
