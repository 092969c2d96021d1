// Authentication context classes Keystep issues (listed in discovery as acr_values_supported).
export const ACR_PASSWORD = 'urn:keystep:acr:pwd';
export const ACR_MFA = 'urn:keystep:acr:mfa';
/** Two factors, one of them phishing-resistant (a passkey: its signature is bound to Keystep's origin). */
export const ACR_PHR = 'urn:keystep:acr:phr';
export const acrValues = [ACR_PASSWORD, ACR_MFA, ACR_PHR] as const;
/** Keystep's `amr` value of a sign-in at an upstream provider (RFC 8176 has none for "federated"). */
export const AMR_FEDERATED = 'fed';

/**
 * Whether a sign-in at `actual` gives what a request for `wanted` asks: the same value, or a
 * phishing-resistant one where two factors were asked (it is two factors and more). A password-only
 * request stays exact: Keystep never turns a stronger sign-in into a claim of a weaker one.
 */
export function acrMeets(actual: string | undefined, wanted: string): boolean {
  return actual === wanted || (wanted === ACR_MFA && actual === ACR_PHR);
}
