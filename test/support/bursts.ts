import type { Db } from '../../src/db/connection.ts';
import type { PasswordHasher } from '../../src/login/passwords.ts';
import { Gate } from './gate.ts';
import { cheapHasher } from './hasher.ts';

/** Starts `count` requests before awaiting any, so they reach Keystep together. */
export function burst<T>(count: number, request: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => request(index)));
}

/** As `burst`, for requests some of which are meant to fail: the values of those that won, and why the others lost. */
export async function burstWinners<T>(count: number, request: (index: number) => Promise<T>): Promise<{ won: T[]; lost: unknown[] }> {
  const results = await Promise.allSettled(Array.from({ length: count }, (_, index) => request(index)));
  return {
    won: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    lost: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

/** The tests' argon2id hasher, counting the hashes it checks (real and dummy); `gate` can hold a check after it ran. */
export function countingHasher(): PasswordHasher & { checked: number; gate: Gate } {
  const real = cheapHasher;
  const counting = {
    checked: 0,
    gate: new Gate(),
    hash: real.hash,
    async verify(passwordHash: string, password: string) {
      counting.checked++;
      const ok = await real.verify(passwordHash, password);
      await counting.gate.pass();
      return ok;
    },
    async verifyDummy(password: string) {
      counting.checked++;
      return real.verifyDummy(password);
    },
  };
  return counting;
}

/** How many audit records of `event` (and `reason`, if given) there are. */
export async function countEvents(db: Db, event: string, reason?: string): Promise<number> {
  let query = db.selectFrom('auth_events').select((eb) => eb.fn.countAll<string>().as('n')).where('event', '=', event);
  if (reason !== undefined) query = query.where('reason', '=', reason);
  return Number((await query.executeTakeFirstOrThrow()).n);
}
