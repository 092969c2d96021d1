import { createHash } from 'node:crypto';
import { isUsername } from '../../../shared/account-name.ts';
import { normalizeMobile } from '../../../shared/phone.ts';
import type { Account } from '../../ports.ts';
import type { FederatedAccounts, UpstreamProvider } from './ports.ts';

type Claims = Readonly<Record<string, unknown>>;

/**
 * A claim's value as a username: a string that can be one (never the text of a null). A `/` would
 * make a name of primary read as another domain's (`partners/alice`), and control characters,
 * spaces or a NUL are no one's username: such a value finds nobody and names no new account.
 */
function nameOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.trim();
  return isUsername(name) ? name : undefined;
}

/** The last resort of a just-in-time account's name: `<provider>.<sub>`, or a hash of the sub where it cannot be part of a username. */
function subjectName(provider: string, subject: string): string {
  return nameOf(`${provider}.${subject}`) ?? `${provider.slice(0, 41)}.${createHash('sha256').update(subject).digest('base64url').slice(0, 22)}`;
}

/** A claim the upstream may vouch for: where it sends `<claim>_verified`, only `true` counts. */
function verified(claims: Claims, claim: string): unknown {
  const flag = claims[`${claim}_verified`];
  return flag === undefined || flag === true ? claims[claim] : undefined;
}

/** The local username the provider's usecase reads from the upstream identity (none for association). */
export function usernameOf(provider: UpstreamProvider, subject: string, claims: Claims): string | undefined {
  switch (provider.usecase) {
    // local too: `--usecase local --user-attribute email` must not take an email the upstream says it has not verified.
    case 'local': return nameOf(verified(claims, provider.userAttribute ?? 'preferred_username'));
    case 'userAttribute': return provider.userAttribute ? nameOf(verified(claims, provider.userAttribute)) : undefined;
    case 'subjectUri': return nameOf(subject);
    case 'association': return undefined;
  }
}

/** The number the upstream vouches for (`<claim>_verified: true`, nothing less), as E.164. */
export function verifiedMobile(provider: UpstreamProvider, claims: Claims, defaultCountry?: string): string | null {
  if (!provider.mobileClaim || claims[`${provider.mobileClaim}_verified`] !== true) return null;
  const value = claims[provider.mobileClaim];
  if (typeof value !== 'string') return null;
  const mobile = normalizeMobile(value, defaultCountry);
  return mobile.ok ? mobile.e164 : null;
}

export type Resolution =
  | { found: true; account: Account; created: boolean }
  | { found: false; reason: 'not_linked' | 'name_taken' };

/**
 * The local account of an upstream identity: its link first (association, and accounts made just in
 * time), then the usecase's username in each of the provider's domains in order, then (with `jit`)
 * a new account in the first domain, linked in the same transaction.
 */
export async function resolveAccount(
  accounts: FederatedAccounts,
  provider: UpstreamProvider,
  subject: string,
  claims: Claims,
  options: { defaultCountry?: string | undefined; usable?: (e164: string) => Promise<boolean>; phoneUnique?: boolean } = {},
): Promise<Resolution> {
  const linked = await accounts.findLinked(provider.name, subject);
  if (linked) return { found: true, account: linked, created: false };
  const username = usernameOf(provider, subject, claims);
  if (username) {
    for (const domain of provider.domains) {
      const account = await accounts.findInDomain(domain, username);
      if (account) return { found: true, account, created: false };
    }
  }
  if (!provider.jit) return { found: false, reason: 'not_linked' };
  // A just-in-time account is named by the usecase's claim, else by the upstream's own preferred
  // name, else by provider and subject; it is linked, so the next sign-in finds it by its link.
  const name = username ?? nameOf(verified(claims, 'preferred_username')) ?? subjectName(provider.name, subject);
  const mobile = verifiedMobile(provider, claims, options.defaultCountry);
  // A number SMS may not go to (`sms.allowedCountries`), or one another account has verified (with
  // `smsOtp.phoneUnique`), is not taken: the user is asked for one. The store checks the latter again
  // as it saves, for a number another account verifies at the same moment.
  const phone = mobile !== null && (await options.usable?.(mobile) ?? true) ? mobile : null;
  const made = await accounts.createLinked({ provider: provider.name, subject, domain: provider.domains[0] ?? 'primary', username: name, phone, phoneUnique: options.phoneUnique ?? false });
  if (made) return { found: true, account: made, created: true };
  // Linked by a sign-in racing this one: that account.
  const raced = await accounts.findLinked(provider.name, subject);
  return raced ? { found: true, account: raced, created: false } : { found: false, reason: 'name_taken' };
}
