import type { Account } from './ports.ts';
import { accountName } from '../shared/account-name.ts';

/** The OpenID Connect claims of an account; a disabled account has none (its tokens say nothing). */
export function accountClaims(account: Account | undefined): Record<string, unknown> | undefined {
  if (!account || account.disabled) return undefined;
  return {
    preferred_username: accountName(account),
    ...(account.phone && account.phoneVerifiedAt ? { phone_number: account.phone, phone_number_verified: true } : {}),
  };
}
