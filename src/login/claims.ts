import type { Account } from './ports.ts';

/** The OpenID Connect claims of an account; a disabled account has none (its tokens say nothing). */
export function accountClaims(account: Account | undefined): Record<string, unknown> | undefined {
  if (!account || account.disabled) return undefined;
  return {
    preferred_username: account.username,
    ...(account.phone && account.phoneVerifiedAt ? { phone_number: account.phone, phone_number_verified: true } : {}),
  };
}
