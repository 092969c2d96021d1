import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Config } from '../../src/config/schema.ts';
import type { Db } from '../../src/db/connection.ts';
import { federatedLinkRepository } from '../../src/repositories/federated-links.ts';
import { upstreamProviderRepository, upstreamSecretsKey } from '../../src/repositories/upstream-providers.ts';

/** The stored upstream providers of a test app, their secrets sealed under its server secret as `idp add` seals them. */
export async function storedUpstreams(t: { database: { db: Db }; config: Config }) {
  return upstreamProviderRepository(t.database.db, await upstreamSecretsKey(t.database.db, t.config.keys.otpHmacKey));
}

/** Who signs in at the upstream next, or the error it answers with instead. */
export type UpstreamAnswer = { sub: string; amr?: string[]; acr?: string } | { error: string };

export interface UpstreamClientRegistration {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

const rsaJwk = () => ({ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' });

/** The links of a test app's upstream identities, each provider's by the issuer it has now. */
export async function storedLinks(t: { database: { db: Db }; config: Config }) {
  const providers = await storedUpstreams(t);
  return federatedLinkRepository(t.database.db, async (name) => (await providers.find(name))?.issuer);
}

/**
 * A second oidc-provider on loopback, as the upstream identity provider of Keystep's federated sign-in.
 * Its issuer is `http://localhost:<port>` (Keystep is on 127.0.0.1): the browser's cookies of the two
 * stay apart. Its login page signs in `answer` at once; `claims` are what each subject's ID token says.
 * Faults a test switches on: `holdCallbacks` keeps the redirect back to Keystep (in `held`) instead of
 * sending the browser, `silent` makes discovery or the token endpoint never answer, `foreignKeys`
 * serves a JWKS without the key that signs, `noAuthorizationEndpoint` a discovery document without one.
 */
export class Upstream {
  readonly claims = new Map<string, Record<string, unknown>>();
  answer: UpstreamAnswer = { sub: 'nobody' };
  holdCallbacks = false;
  readonly held: string[] = [];
  silent: 'discovery' | 'token' | undefined;
  foreignKeys = false;
  /** Discovery answers a document without an authorization endpoint (garbage of a provider that answers). */
  noAuthorizationEndpoint = false;
  tokenRequests = 0;
  readonly #server: Server;
  #provider!: Provider;
  readonly #foreignJwks = { keys: [(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub)(rsaJwk() as Record<string, unknown>)] };

  private constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(clients: (issuer: string) => UpstreamClientRegistration[]): Promise<Upstream> {
    const upstream = new Upstream();
    await new Promise<void>((resolve) => upstream.#server.listen(0, '127.0.0.1', resolve));
    const issuer = upstream.issuer;
    const provider = new Provider(issuer, {
      clients: clients(issuer).map((c) => ({
        client_id: c.clientId, client_secret: c.clientSecret, redirect_uris: c.redirectUris,
        grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      })),
      jwks: { keys: [rsaJwk() as never] },
      cookies: { keys: ['upstream-test-cookie-key'] },
      claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], phone: ['phone_number', 'phone_number_verified'], profile: ['preferred_username', 'name'] },
      // The claims of the scopes go into the ID token itself, where Keystep reads them.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/login/${interaction.uid}` },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ ...upstream.claims.get(sub), sub }) }),
      // Every client is first-party here: no consent page.
      async loadExistingGrant(ctx) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope(String(ctx.oidc.params?.scope ?? 'openid'));
        await grant.save();
        return grant;
      },
    });
    upstream.#provider = provider;
    return upstream;
  }

  /** Switches every fault off and forgets the held redirects, as a test starts; claims and answer stay. */
  resetFaults(): void {
    this.holdCallbacks = false;
    this.held.length = 0;
    this.silent = undefined;
    this.foreignKeys = false;
    this.noAuthorizationEndpoint = false;
  }

  get issuer(): string {
    return `http://localhost:${(this.#server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (this.silent === 'discovery' && url.startsWith('/.well-known/')) return; // never answers
    if (url.startsWith('/token')) {
      this.tokenRequests++;
      if (this.silent === 'token') return;
    }
    if (this.noAuthorizationEndpoint && url.startsWith('/.well-known/')) {
      const issuer = this.issuer;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] }));
      return;
    }
    if (this.foreignKeys && url.startsWith('/jwks')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.#foreignJwks));
      return;
    }
    if (url.startsWith('/login/')) {
      const answer = this.answer;
      const result = 'error' in answer
        ? { error: answer.error, error_description: 'The user said no.' }
        : { login: { accountId: answer.sub, amr: answer.amr ?? ['pwd'], acr: answer.acr ?? 'urn:upstream:pwd' } };
      await this.#provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    if (this.holdCallbacks && /^\/auth\/[^/?]+/.test(url)) {
      // The resumed authorization: its redirect back to Keystep is kept for the test instead.
      const original = res.writeHead.bind(res);
      res.writeHead = ((status: number, ...rest: unknown[]) => {
        const location = res.getHeader('location');
        if (status >= 300 && status < 400 && typeof location === 'string') {
          this.held.push(location);
          res.removeHeader('location');
          return original(200, { 'content-type': 'text/plain' });
        }
        return original(status, ...(rest as []));
      }) as typeof res.writeHead;
    }
    this.#provider.callback()(req, res);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
