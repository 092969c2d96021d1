import type { Account, AccountStore } from './ports.ts';
import type { LoginState } from './types.ts';

// One account read per request: the chain asks several steps whether they apply, each needing the
// account. Keyed by the state object, which lives for one request; a step that passes hands the
// account it read on to the next state, so the next step does not read it again.
const accountsByState = new WeakMap<LoginState, Promise<Account | undefined>>();

export function requestAccount(state: LoginState, accounts: AccountStore): Promise<Account | undefined> {
  let pending = accountsByState.get(state);
  if (!pending) {
    pending = state.accountId ? accounts.findById(state.accountId) : Promise.resolve(undefined);
    accountsByState.set(state, pending);
  }
  return pending;
}

/** The account as a step of this request read it, for the state that step's pass made. */
export function handOnAccount(state: LoginState, account: Account): void {
  if (account.id === state.accountId) accountsByState.set(state, Promise.resolve(account));
}
