import type { LoginFlow } from './flow.ts';
import type { LoginContext, RequestFacts } from './factor.ts';
import type { Account, AccountStore } from './ports.ts';

export type { RequestFacts };

/**
 * The context of one request of a login. The account is read once, when a factor first asks (the
 * chain and the factor it picks both need it); `known` is an account this request already read
 * (the one a factor just proved), so the next step does not read it again.
 */
export function loginContext(facts: RequestFacts, flow: LoginFlow, accounts: Pick<AccountStore, 'findById'>, known?: Account): LoginContext {
  let pending: Promise<Account> | undefined = known && known.id === flow.accountId ? Promise.resolve(known) : undefined;
  return {
    ...facts,
    flow,
    account() {
      pending ??= (async () => {
        const account = flow.accountId ? await accounts.findById(flow.accountId) : undefined;
        // Only second-stage factors ask, and they run only after the first stage found the account;
        // an account deleted under a login in progress ends that login.
        if (!account) throw new AccountGone();
        return account;
      })();
      return pending;
    },
  };
}

/** The login's account is gone (deleted while the login was in progress). */
export class AccountGone extends Error {
  constructor() {
    super('the login\'s account is gone');
  }
}
