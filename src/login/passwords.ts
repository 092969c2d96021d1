import { hash, verify } from '@node-rs/argon2';
import commonPasswords from '@zxcvbn-ts/language-common/src/passwords.json' with { type: 'json' };

// argon2id, m=19 MiB, t=2, p=1 (OWASP). The parameters are stored in each hash, so raising them
// later still verifies old hashes.
const ARGON2ID = 2;
export const argon2Options = { algorithm: ARGON2ID, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify, for logins of unknown users. */
  verifyDummy(password: string): Promise<void>;
}

export function createArgon2Hasher(): PasswordHasher {
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, argon2Options),
    verify: async (passwordHash, password) => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      dummy ??= hash('keystep-dummy-password-for-unknown-users', argon2Options);
      await verify(await dummy, password).catch(() => false);
    },
  };
}

const common = new Set(commonPasswords as string[]);

export interface PasswordRules {
  minLength: number;
  maxLength: number;
}

export type PasswordProblem = 'TOO_SHORT' | 'TOO_LONG' | 'TOO_COMMON' | 'INVALID_CHARACTERS';

/** NIST 800-63B: length limits and a list of common passwords; no composition rules. */
export function checkNewPassword(password: string, rules: PasswordRules): PasswordProblem | undefined {
  // Length counts code points, so a password of emoji is not judged by its UTF-16 length.
  const length = [...password].length;
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'INVALID_CHARACTERS';
  if (length < rules.minLength) return 'TOO_SHORT';
  if (length > rules.maxLength) return 'TOO_LONG';
  if (common.has(password.toLowerCase())) return 'TOO_COMMON';
  return undefined;
}

export function describePasswordProblem(problem: PasswordProblem, rules: PasswordRules): string {
  switch (problem) {
    case 'TOO_SHORT': return `the password must have at least ${rules.minLength} characters`;
    case 'TOO_LONG': return `the password must have at most ${rules.maxLength} characters`;
    case 'TOO_COMMON': return 'the password is on a list of commonly used passwords; choose another';
    case 'INVALID_CHARACTERS': return 'the password must not contain control characters';
  }
}
