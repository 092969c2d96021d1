import { ALPHANUMERIC_SYMBOLS, generateCode, normalizeCode } from '../../one-time-codes.ts';
import type { Random } from '../../../shared/random.ts';

export const BACKUP_CODE_COUNT = 10;
// 10 symbols of 32 = 50 bits each (NIST look-up secrets: at least 20 bits; Keystep's bar: 50).
const LENGTH = 10;

/** Fresh backup codes, shown as XXXXX-XXXXX. */
export function generateBackupCodes(random: Random, count = BACKUP_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const code = generateCode(random, LENGTH, true);
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

// Codes imported from another system (`keystep user import`) keep their own shape: WSO2's are
// digits. Anything else that is not Keystep's form is refused before a hash is compared.
const IMPORTED = /^\d{6,32}$/;

/** The canonical form that is hashed and compared: no dash or spaces, upper case. */
export function canonicalBackupCode(input: string): string | undefined {
  const code = normalizeCode(input);
  if (code.length === LENGTH && [...code].every((c) => ALPHANUMERIC_SYMBOLS.includes(c))) return code;
  return IMPORTED.test(code) ? code : undefined;
}

/** Makes a fresh set for an account, stores only salted hashes (replacing the old set), returns the codes once. */
export async function issueBackupCodes(
  store: { replaceAll(accountId: string, hashes: string[]): Promise<void> },
  hasher: { hash(secret: string): Promise<string> },
  random: Random,
  accountId: string,
): Promise<string[]> {
  const codes = generateBackupCodes(random);
  // Salted argon2id like passwords: 50 bits is too little for a plain hash (ASVS 6.5.2).
  const hashes = await Promise.all(codes.map((code) => hasher.hash(canonicalBackupCode(code)!)));
  await store.replaceAll(accountId, hashes);
  return codes;
}
