import { hash, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '../../src/login/passwords.ts';

/**
 * Real argon2id (the same library and hash format) with its smallest parameters. Keystep's own
 * parameters cost about 12 ms of a core per hash, and the tests hash thousands of passwords and
 * backup codes; `test/unit/passwords.test.ts` checks the parameters Keystep really uses, and
 * `test/integration/cli.test.ts` that the command uses them unless given another hasher.
 */
const cheap = { algorithm: 2, memoryCost: 64, timeCost: 1, parallelism: 1 } as const;

export const cheapHasher: PasswordHasher = {
  hash: (password) => hash(password, cheap),
  verify: (passwordHash, password) => verify(passwordHash, password).catch(() => false),
  async verifyDummy(password) {
    await verify(await hash('dummy-password', cheap), password).catch(() => false);
  },
};
