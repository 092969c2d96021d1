import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { clientSettings } from './provider.ts';
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
  clientMfa: 'required' | 'optional' | null;
  /** The acr values the request asks for (acr_values and the claims parameter). */
  acrValues: string[];
  missingScopes: string[];
  missingClaims: string[];
  sessionAccountId: string | undefined;
  loginHint: string | undefined;
  /** Where the provider resumes once a result was given (the login was handed over), else undefined. */
  finishedReturnTo: string | undefined;
}

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

export function interactionFacade(provider: Provider) {
  // A login request reads its interaction first and may finish it later: one read per request.
  const loaded = new WeakMap<Req, Promise<Interaction>>();

  async function load(req: Req, res: Res, uid: string) {
    try {
      let pending = loaded.get(req);
      if (!pending) {
        pending = provider.interactionDetails(req, res);
        loaded.set(req, pending);
      }
      const interaction = await pending;
      // The cookie is path-scoped, but a page for one login must never act on another.
      if (interaction.uid !== uid) throw new InteractionGone('interaction mismatch');
      return interaction;
    } catch (err) {
      if (err instanceof errors.SessionNotFound || err instanceof InteractionGone) throw new InteractionGone('interaction not found', { cause: err });
      throw err;
    }
  }

  async function finish(req: Req, res: Res, result: Parameters<Provider['interactionResult']>[2]): Promise<string> {
    try {
      return await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    } catch (err) {
      if (err instanceof errors.SessionNotFound) throw new InteractionGone('interaction not found', { cause: err });
      throw err;
    }
  }

  return {
    async details(req: Req, res: Res, uid: string): Promise<InteractionInfo> {
      const interaction = await load(req, res, uid);
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
        acrValues: requestedAcrs(params),
        missingScopes: list(details.missingOIDCScope),
        missingClaims: list(details.missingOIDCClaims),
        sessionAccountId: interaction.session?.accountId,
        loginHint: typeof params.login_hint === 'string' ? params.login_hint : undefined,
        finishedReturnTo: interaction.result ? interaction.returnTo : undefined,
      };
    },

    /** Ends the login chain; only ever called once every step has passed. */
    async finishLogin(req: Req, res: Res, uid: string, login: LoginResult): Promise<string> {
      await load(req, res, uid);
      return finish(req, res, { login: { accountId: login.accountId, acr: login.acr, amr: login.amr, ts: login.ts, remember: true } });
    },

    /** Grants what the client asked for (first-party clients, or after the user allowed it). */
    async finishConsent(req: Req, res: Res, uid: string): Promise<string> {
      const interaction = await load(req, res, uid);
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
      return finish(req, res, { consent: { grantId: savedId } });
    },

    async abort(req: Req, res: Res, uid: string, error: string, description: string): Promise<string> {
      await load(req, res, uid);
      return finish(req, res, { error, error_description: description });
    },
  };
}

export type InteractionFacade = ReturnType<typeof interactionFacade>;
