import type { Context } from 'koa';
import type Provider from 'oidc-provider';

export interface SignedInSession {
  uid: string;
  accountId: string;
  acr: string | undefined;
  /** Epoch seconds of the last full sign-in. */
  loginTs: number | undefined;
}

/** The provider's own sign-in session, for Keystep's pages outside the OIDC flow (the account page). */
export function sessionReader(provider: Provider) {
  return {
    async current(ctx: Context): Promise<SignedInSession | undefined> {
      const session = await provider.Session.get(ctx);
      if (!session?.accountId || !session.uid) return undefined;
      return { uid: session.uid, accountId: session.accountId, acr: session.acr, loginTs: session.loginTs };
    },
  };
}

export type SessionReader = ReturnType<typeof sessionReader>;
