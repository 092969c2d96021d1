import { ALPHANUMERIC_SYMBOLS, generateCode, normalizeCode } from './otp-codes.ts';
import type { Random } from '../shared/random.ts';

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

/** The canonical form that is hashed and compared: no dash or spaces, upper case. */
export function canonicalBackupCode(input: string): string | undefined {
  const code = normalizeCode(input);
  if (code.length !== LENGTH || [...code].some((c) => !ALPHANUMERIC_SYMBOLS.includes(c))) return undefined;
  return code;
}
