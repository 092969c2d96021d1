import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import commonPasswords from '@zxcvbn-ts/language-common/src/passwords.json' with { type: 'json' };
import { hashFormat, verifyLegacy } from './legacy-hashes.ts';

// argon2id, m=19 MiB, t=2, p=1 (OWASP). The parameters are stored in each hash, so raising them
// later still verifies old hashes.
const ARGON2ID = 2;
export const argon2Options = { algorithm: ARGON2ID, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify, for logins of unknown users. */
  verifyDummy(password: string): Promise<void>;
  /** Hashes waiting for a free slot, for the metrics (when the hasher queues them). */
  queueDepth?(): number;
  /** True for a hash of another format (an imported user's), to be replaced at the next sign-in. */
  needsRehash?(passwordHash: string): boolean;
}

/** Whether an argon2id hash was made with less memory or fewer passes than `own` (unreadable: yes). */
function weakerThan(passwordHash: string, own: { memoryCost: number; timeCost: number }): boolean {
  const params = /^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=\d+\$/.exec(passwordHash);
  return !params || Number(params[1]) < own.memoryCost || Number(params[2]) < own.timeCost;
}

/**
 * Also verifies the bcrypt and PBKDF2 hashes of imported users (argon2i and argon2d go through
 * argon2's own verify). Such a check costs besides its own work the dummy argon2id of an unknown
 * user, so an imported account answers no faster than a name without one.
 */
export function withLegacyHashes(base: PasswordHasher, limit: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(), own?: { memoryCost: number; timeCost: number }): PasswordHasher {
  return {
    hash: (password) => base.hash(password),
    async verify(passwordHash, password) {
      const format = hashFormat(passwordHash);
      if (format !== 'bcrypt' && format !== 'pbkdf2-sha256') return base.verify(passwordHash, password);
      const [ok] = await Promise.all([limit(() => verifyLegacy(passwordHash, password)).catch(() => false), base.verifyDummy(password)]);
      return ok;
    },
    verifyDummy: (password) => base.verifyDummy(password),
    // An imported argon2id hash made with less memory or fewer passes than Keystep's own is renewed too.
    needsRehash: (passwordHash) => hashFormat(passwordHash) !== 'argon2id' || (own !== undefined && weakerThan(passwordHash, own)),
    ...(base.queueDepth ? { queueDepth: () => base.queueDepth!() } : {}),
  };
}

/**
 * At most `concurrency` hashes run at once (by default one per CPU this process may use). More would
 * not finish sooner: they share the cores, each holds 19 MiB, and interleaved they evict each other's
 * memory from the CPU caches, which made every hash about a quarter slower in the benchmark. The
 * others wait their turn.
 */
export function createArgon2Hasher(concurrency = availableParallelism()): PasswordHasher {
  const limit = pLimit(Math.max(1, concurrency));
  let dummy: Promise<string> | undefined;
  return withLegacyHashes({
    hash: (password) => limit(() => hash(password, argon2Options)),
    verify: (passwordHash, password) => limit(() => verify(passwordHash, password)).catch(() => false),
    async verifyDummy(password) {
      dummy ??= limit(() => hash('keystep-dummy-password-for-unknown-users', argon2Options));
      await limit(async () => verify(await dummy!, password)).catch(() => false);
    },
    queueDepth: () => limit.pendingCount,
  }, limit, argon2Options);
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
