import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { clientSettings, type ClientMfa } from './provider.ts';
import { requestedAcrs } from './requested-acr.ts';

/** What the login pages need to know about one interaction, without the provider's types. */
export interface InteractionInfo {
  uid: string;
  prompt: string;
  clientId: string;
  clientName: string;
  /** Where the login ends: the client's registered redirect URIs. */
  redirectUris: string[];
  consentRequired: boolean;
  clientMfa: ClientMfa | null;
  /** The first-stage factors the client offers (`password`, `idp:<name>`); undefined: password only. */
  firstSteps: string[] | undefined;
  /** The acr values the request asks for (acr_values and the claims parameter). */
  acrValues: string[];
  missingScopes: string[];
  missingClaims: string[];
  sessionAccountId: string | undefined;
  loginHint: string | undefined;
  /** The app's wish for the pages' language (OIDC `ui_locales`: tags by preference, space-separated). */
  uiLocales: string | undefined;
  /** Where the provider resumes once a result was given (the login was handed over), else undefined. */
  finishedReturnTo: string | undefined;
  /**
   * The session's earlier sign-in, when this login is asked only because the request needs more than
   * it proved (acr_values, the client's MFA policy): not when the user or the app asked to sign in
   * again (prompt=login, max_age) or there is no session.
   */
  earlierSignIn: { accountId: string; amr: string[]; loginTs: number } | undefined;
}

// The reasons for a login prompt that mean "the session is fine, only not strong enough".
const STEP_UP_REASONS = new Set(['step_up', 'essential_acr', 'essential_acrs']);

export interface LoginResult {
  accountId: string;
  acr: string;
  amr: string[];
  /** Epoch seconds the session's sign-in is dated (auth_time). */
  ts: number;
}

/** The interaction cookie is missing, tampered with, expired, or names another interaction. */
export class InteractionGone extends Error {}

type Req = IncomingMessage;
type Res = ServerResponse;

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** One interaction, read once per request: what the pages need to know, and the ways to end it. */
export interface OpenInteraction {
  info: InteractionInfo;
  /** Ends the login chain; only ever called once every stage has passed. */
  finishLogin(login: LoginResult): Promise<string>;
  /** Grants what the client asked for (first-party clients, or after the user allowed it). */
  finishConsent(): Promise<string>;
  abort(error: string, description: string): Promise<string>;
}

export function interactionFacade(provider: Provider) {
  async function earlierSignIn(interaction: Interaction): Promise<InteractionInfo['earlierSignIn']> {
    const { prompt, session } = interaction;
    if (prompt.name !== 'login' || !session?.uid || !session.amr?.length) return undefined;
    // Keystep's own step-up check must be among them: an essential acr alone may ask for less.
    if (!prompt.reasons.includes('step_up') || !prompt.reasons.every((r) => STEP_UP_REASONS.has(r))) return undefined;
    const stored = await provider.Session.findByUid(session.uid);
    if (!stored?.loginTs || stored.accountId !== session.accountId) return undefined;
    return { accountId: session.accountId, amr: list(session.amr), loginTs: stored.loginTs };
  }

  async function describe(interaction: Interaction): Promise<InteractionInfo> {
    const params = interaction.params;
    const client = await provider.Client.find(String(params.client_id));
    if (!client) throw new InteractionGone('client gone');
    const settings = clientSettings(client);
    const details = interaction.prompt.details;
    return {
      uid: interaction.uid,
      prompt: interaction.prompt.name,
      clientId: client.clientId,
      clientName: typeof client.clientName === 'string' ? client.clientName : client.clientId,
      redirectUris: [...(client.redirectUris ?? [])],
      consentRequired: settings.consentRequired,
      clientMfa: settings.mfa,
      firstSteps: settings.firstSteps,
      acrValues: requestedAcrs(params),
      missingScopes: list(details.missingOIDCScope),
      missingClaims: list(details.missingOIDCClaims),
      sessionAccountId: interaction.session?.accountId,
      loginHint: typeof params.login_hint === 'string' ? params.login_hint : undefined,
      uiLocales: typeof params.ui_locales === 'string' ? params.ui_locales.slice(0, 512) : undefined,
      finishedReturnTo: interaction.result ? interaction.returnTo : undefined,
      earlierSignIn: await earlierSignIn(interaction),
    };
  }

  return {
    /** The interaction this request's cookie names, which must be the one in the page's address. */
    async open(req: Req, res: Res, uid: string): Promise<OpenInteraction> {
      let interaction: Interaction;
      try {
        interaction = await provider.interactionDetails(req, res);
      } catch (err) {
        if (err instanceof errors.SessionNotFound) throw new InteractionGone('interaction not found', { cause: err });
        throw err;
      }
      // The cookie is path-scoped, but a page for one login must never act on another.
      if (interaction.uid !== uid) throw new InteractionGone('interaction mismatch');

      async function finish(result: Parameters<Provider['interactionResult']>[2]): Promise<string> {
        try {
          return await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
        } catch (err) {
          if (err instanceof errors.SessionNotFound) throw new InteractionGone('interaction not found', { cause: err });
          throw err;
        }
      }

      return {
        info: await describe(interaction),
        finishLogin: (login) => finish({ login: { accountId: login.accountId, acr: login.acr, amr: login.amr, ts: login.ts, remember: true } }),
        async finishConsent() {
          const { prompt, params, session, grantId } = interaction;
          if (!session) throw new InteractionGone('no session');
          const grant = (grantId ? await provider.Grant.find(grantId) : undefined)
            ?? new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
          const details = prompt.details;
          if (details.missingOIDCScope) grant.addOIDCScope(list(details.missingOIDCScope).join(' '));
          if (details.missingOIDCClaims) grant.addOIDCClaims(list(details.missingOIDCClaims));
          const resourceScopes = (details.missingResourceScopes ?? {}) as Record<string, string[]>;
          for (const [indicator, scopes] of Object.entries(resourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
          const savedId = await grant.save();
          return finish({ consent: { grantId: savedId } });
        },
        abort: (error, description) => finish({ error, error_description: description }),
      };
    },
  };
}

export type InteractionFacade = ReturnType<typeof interactionFacade>;
