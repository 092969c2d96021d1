/**
 * Account domains (WSO2's user stores): every account lives in one, `primary` unless it was created
 * in another. A name is written `domain/username`; a name without a domain is in `primary`, and
 * that is how an account of `primary` is shown. Domains compare without case, as usernames do.
 */
export const PRIMARY_DOMAIN = 'primary';

const DOMAIN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const USERNAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

/** Whether a name can be an account's username: 1 to 64 letters, digits or `. _ @ + -` (never a `/`, a space or a control character). */
export const isUsername = (name: string): boolean => USERNAME.test(name);

export interface AccountName {
  domain: string;
  username: string;
}

/** A domain as stored (lower case), or undefined when it is not one: 1 to 32 of a-z 0-9 _ -, starting with a letter or digit. */
export function parseDomain(input: string): string | undefined {
  const domain = input.trim().toLowerCase();
  return DOMAIN.test(domain) ? domain : undefined;
}

/**
 * The domain and username a typed name means. A name whose part before the first `/` is not a
 * domain is kept whole in `primary` (it then matches no account: usernames never hold a `/`).
 */
export function parseAccountName(input: string): AccountName {
  const name = input.trim();
  const slash = name.indexOf('/');
  const domain = slash > 0 ? parseDomain(name.slice(0, slash)) : undefined;
  return domain ? { domain, username: name.slice(slash + 1) } : { domain: PRIMARY_DOMAIN, username: name };
}

/** How an account's name is shown and typed: `username` in `primary`, else `domain/username`. */
export function accountName(name: AccountName): string {
  return name.domain === PRIMARY_DOMAIN ? name.username : `${name.domain}/${name.username}`;
}
