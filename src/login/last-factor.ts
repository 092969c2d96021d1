import type { LoginChain } from './chain.ts';
import type { LoginPolicy } from './factor.ts';
import type { Account, AccountLock, AccountStore } from './ports.ts';

/** A login that asks for nothing itself: no `acr_values`, a client that follows the global setting. */
const ORDINARY: LoginPolicy = { mfaRequested: false, clientMfa: null };

/** Whether the account, as it would be after a removal, still signs in as its policy asks. */
export type KeepsSecondFactor = (after: Account) => Promise<boolean>;

/**
 * The account page may not take away the last second factor of an account that needs one: with
 * only backup codes left, each sign-in would spend one until none is left. The operator's commands
 * are not asked (an administrator may need to remove a lost device).
 */
export function keepsSecondFactor(chain: Pick<LoginChain, 'factors' | 'secondFactorNeeded'>): KeepsSecondFactor {
  const kinds = chain.factors.filter((f) => f.stage === 'second' && !f.role);
  return async (after) => {
    const kept = await Promise.all(kinds.map((f) => f.enrolled(after)));
    return kept.some(Boolean) || !(await chain.secondFactorNeeded(after, ORDINARY));
  };
}

/** `last`: refused, the account would be left without a second factor it needs; `busy`: another change is under way. */
export type Removal = 'removed' | 'none' | 'last' | 'busy';

/**
 * A removal of a factor from the account page, one at a time per account: under the account's lock
 * the account is read afresh, `plan` says how it would be after the removal (undefined: nothing to
 * remove), and the removal runs only if that still signs in as the account's policy asks. Two tabs
 * removing the last two factors at once cannot both succeed: the later is refused as `busy`.
 */
export function removalGuard(keeps: KeepsSecondFactor, accounts: Pick<AccountStore, 'findById'>, lock: AccountLock) {
  return async (accountId: string, plan: (fresh: Account) => Promise<Account | undefined>, remove: () => Promise<boolean>): Promise<Removal> => {
    const done = await lock(accountId, async (): Promise<Removal> => {
      const fresh = await accounts.findById(accountId);
      const after = fresh && (await plan(fresh));
      if (!after) return 'none';
      if (!(await keeps(after))) return 'last';
      return (await remove()) ? 'removed' : 'none';
    });
    return done.ran ? done.value : 'busy';
  };
}

export type RemovalGuard = ReturnType<typeof removalGuard>;
