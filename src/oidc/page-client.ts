import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * The registered addresses (redirect and post-logout URIs) of the client a provider-rendered page
 * belongs to: its auto-submitting and logout forms end there. When the provider asks to sign the
 * previous user out before a new one, it has not loaded the client yet; the session names it.
 */
export async function providerPageClientUris(ctx: Context): Promise<string[]> {
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  if (!oidc) return [];
  const pending = oidc.session?.state?.clientId;
  // A failed look-up leaves the page with forms to Keystep only, rather than failing a page already made.
  const client = oidc.client ?? (typeof pending === 'string' ? await oidc.provider.Client.find(pending).catch(() => undefined) : undefined);
  if (!client) return [];
  return [...(client.redirectUris ?? []), ...(client.postLogoutRedirectUris ?? [])];
}
