import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Password hashes of other systems that Keystep verifies, so that users imported with them sign in
 * with the password they had; the first sign-in that succeeds stores Keystep's argon2id instead.
 */
export type HashFormat = 'argon2id' | 'argon2i' | 'argon2d' | 'bcrypt' | 'pbkdf2-sha256';

const ARGON2 = /^\$argon2(id|i|d)\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
// passlib's form: $pbkdf2-sha256$<iterations>$<salt>$<checksum>, salt and checksum in its base64
// with `.` for `+` and no padding.
const PBKDF2 = /^\$pbkdf2-sha256\$(\d{1,9})\$([./A-Za-z0-9]*)\$([./A-Za-z0-9]{16,})$/;
// PBKDF2 runs its iterations once per 32 bytes of the hash it makes: the bound is on that product,
// so a long stored hash cannot multiply the work of one try. No real hash is longer than 64 bytes.
const PBKDF2_BLOCK_BYTES = 32;
const PBKDF2_MAX_HASH_BYTES = 64;
const PBKDF2_MAX_SALT_BYTES = 1024;

// Bounds on the work one sign-in may cost: an imported hash with absurd parameters must not let a
// single try pin a core (or allocate gigabytes) for as long as it asks. About a second at most:
// PBKDF2's 5,000,000 iterations; bcrypt runs in JavaScript on the thread that serves every request
// (cost 13 about a second, each step doubles it); argon2 by memory times passes (256 MiB four times).
const LIMITS = { pbkdf2Iterations: 5_000_000, bcryptCost: 13, argon2MemoryKiB: 262_144, argon2Time: 16, argon2Lanes: 16, argon2Work: 4 * 262_144 };

export function hashFormat(hash: string): HashFormat | undefined {
  const argon = ARGON2.exec(hash);
  if (argon) return `argon2${argon[1]}` as HashFormat;
  if (BCRYPT.test(hash)) return 'bcrypt';
  if (PBKDF2.test(hash)) return 'pbkdf2-sha256';
  return undefined;
}

/** Why an imported hash cannot be used, or undefined when Keystep can verify it. */
export function importedHashProblem(hash: string): string | undefined {
  const argon = ARGON2.exec(hash);
  if (argon) {
    const [m, t, p] = [Number(argon[2]), Number(argon[3]), Number(argon[4])];
    return m > LIMITS.argon2MemoryKiB || t > LIMITS.argon2Time || p > LIMITS.argon2Lanes || m * t > LIMITS.argon2Work || m < 8 || t < 1 || p < 1
      ? `argon2 parameters m=${m},t=${t},p=${p} are outside what Keystep verifies (m up to ${LIMITS.argon2MemoryKiB}, t up to ${LIMITS.argon2Time}, m×t up to ${LIMITS.argon2Work}, p up to ${LIMITS.argon2Lanes})`
      : undefined;
  }
  const bc = BCRYPT.exec(hash);
  if (bc) return Number(bc[1]) < 4 || Number(bc[1]) > LIMITS.bcryptCost ? `bcrypt cost ${Number(bc[1])} is outside 4 to ${LIMITS.bcryptCost}` : undefined;
  const pb = PBKDF2.exec(hash);
  if (pb) {
    const iterations = Number(pb[1]);
    if (iterations < 1 || iterations > LIMITS.pbkdf2Iterations) return `PBKDF2 iterations ${iterations} are outside 1 to ${LIMITS.pbkdf2Iterations}`;
    // Lengths from the text first: the bytes are not decoded for a hash refused anyway.
    if (pb[3]!.length > Math.ceil((PBKDF2_MAX_HASH_BYTES * 4) / 3) || pb[2]!.length > Math.ceil((PBKDF2_MAX_SALT_BYTES * 4) / 3)) {
      return `the PBKDF2 hash is longer than ${PBKDF2_MAX_HASH_BYTES} bytes or its salt longer than ${PBKDF2_MAX_SALT_BYTES}`;
    }
    const bytes = ab64(pb[3]!).length;
    if (bytes < 16) return 'the PBKDF2 hash is shorter than 16 bytes';
    const work = iterations * Math.ceil(bytes / PBKDF2_BLOCK_BYTES);
    return work > LIMITS.pbkdf2Iterations
      ? `PBKDF2 iterations ${iterations} for a hash of ${bytes} bytes cost ${work} iterations, more than ${LIMITS.pbkdf2Iterations}`
      : undefined;
  }
  return 'not a password hash Keystep can verify: argon2 ($argon2id$, $argon2i$, $argon2d$), bcrypt ($2a$, $2b$, $2y$) or PBKDF2-SHA256 ($pbkdf2-sha256$, or WSO2\'s hash with its salt)';
}

function ab64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

const toAb64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

/**
 * WSO2's PBKDF2 hash (the user store's base64 password and its salt, whose UTF-8 bytes WSO2 uses
 * as the salt) in the common `$pbkdf2-sha256$` form, so the stored hash says how to check it.
 * WSO2's defaults: PBKDF2WithHmacSHA256, 10,000 iterations, 256 bits.
 */
export function fromWso2Pbkdf2(base64Hash: string, salt: string, iterations = 10_000): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64Hash) || !salt) return undefined;
  return `$pbkdf2-sha256$${iterations}$${toAb64(Buffer.from(salt, 'utf8'))}$${toAb64(Buffer.from(base64Hash, 'base64'))}`;
}

/** Checks a password against a bcrypt or PBKDF2 hash (argon2 goes through Keystep's own hasher). */
export async function verifyLegacy(hash: string, password: string): Promise<boolean> {
  if (importedHashProblem(hash)) return false;
  if (BCRYPT.test(hash)) return bcrypt.compare(password, hash);
  const pb = PBKDF2.exec(hash);
  if (!pb) return false;
  const expected = ab64(pb[3]!);
  const derived = await pbkdf2Async(password, ab64(pb[2]!), Number(pb[1]), expected.length, 'sha256');
  return timingSafeEqual(derived, expected);
}
