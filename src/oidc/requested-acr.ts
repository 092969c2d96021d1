/**
 * The acr values a request asks for: `acr_values`, and the ID token `acr` of the claims parameter
 * (OIDC Core §5.5.1.1). The provider checks an essential one against the session by itself, so the
 * login chain must hear of it too, or a login that cannot reach it starts over and over.
 */
export function requestedAcrs(params: { acr_values?: unknown; claims?: unknown }): string[] {
  const fromValues = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  return [...fromValues, ...claimsAcrs(params.claims)];
}

function claimsAcrs(claims: unknown): string[] {
  if (typeof claims !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    // The provider refuses the request before any login sees it.
    return [];
  }
  const acr = (parsed as { id_token?: { acr?: { value?: unknown; values?: unknown } | null } } | null)?.id_token?.acr;
  if (!acr || typeof acr !== 'object') return [];
  const values = Array.isArray(acr.values) ? acr.values : [acr.value];
  return values.filter((value): value is string => typeof value === 'string');
}
