import type { LoginChain } from './chain.ts';
import type { LoginPolicy } from './factor.ts';
import type { Account } from './ports.ts';

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
