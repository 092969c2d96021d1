// What the upstream sign-in needs from outside src/login/: the providers, the relying-party half
// (src/federation/ implements it with openid-client), and the accounts it may find or make.
import type { Account } from '../../ports.ts';

/** How the local account of an upstream identity is found (WSO2's `usecase`). */
export type Usecase = 'local' | 'association' | 'userAttribute' | 'subjectUri';
export const USECASES: readonly Usecase[] = ['local', 'association', 'userAttribute', 'subjectUri'];

/** An upstream OpenID Connect provider as the login sees it (no secret: that stays with the client half). */
export interface UpstreamProvider {
  name: string;
  displayName: string;
  issuer: string;
  usecase: Usecase;
  /** The claim holding the local username (`local`: default `preferred_username`; `userAttribute`: required). */
  userAttribute: string | undefined;
  /** The account domains searched, in order; the first match wins. A just-in-time account goes into the first. */
  domains: readonly string[];
  /** The upstream claim with the user's mobile number, used only when the upstream marks it verified. */
  mobileClaim: string | undefined;
  /** Create a local account on the first sign-in of an identity that has none. */
  jit: boolean;
}

export interface UpstreamProviders {
  find(name: string): Promise<UpstreamProvider | undefined>;
  /** Every provider (the account page offers to link each). */
  list(): Promise<UpstreamProvider[]>;
}

/** What a sign-in at the upstream keeps between the redirect and the callback (in the login's slot). */
export interface UpstreamRequest {
  state: string;
  nonce: string;
  verifier: string;
}

/** Why an upstream sign-in did not prove an identity; each has its own page text. */
export type UpstreamFailure =
  | 'unreachable' // discovery or the token request did not answer in time, or answered nonsense
  | 'error_response' // the upstream sent an error (the user refused, say)
  | 'bad_response' // wrong issuer (RFC 9207), a response without a code
  | 'code_refused' // the upstream refused the code (used already, expired)
  | 'bad_id_token'; // the ID token did not validate (signature, audience, nonce, expiry)

export type UpstreamResult =
  | { ok: true; subject: string; claims: Readonly<Record<string, unknown>> }
  | { ok: false; reason: UpstreamFailure; detail?: string };

/** The relying-party half: every call has a time limit and answers rather than throws. */
export interface UpstreamClient {
  /** The URL to send the browser to; undefined when the provider cannot be reached (discovery). */
  begin(provider: string, request: UpstreamRequest): Promise<{ url: string } | { failed: UpstreamFailure }>;
  /** Checks the authorization response (`params`, as the callback received them) and redeems its code. */
  finish(provider: string, params: Readonly<Record<string, string>>, request: UpstreamRequest): Promise<UpstreamResult>;
}

/** The accounts an upstream identity maps to. */
export interface FederatedAccounts {
  /** The account linked to (provider, subject), if any. */
  findLinked(provider: string, subject: string): Promise<Account | undefined>;
  /** An account by its username within one domain. */
  findInDomain(domain: string, username: string): Promise<Account | undefined>;
  /**
   * Makes the account and its link in one transaction; undefined when the username is taken in that
   * domain (or the identity was linked meanwhile: then the caller reads the link again). `phone` is
   * saved verified; with `phoneUnique` only if no other account has it verified, checked in that
   * transaction as `AccountStore.saveVerifiedPhone` checks (else the account is made without one).
   */
  createLinked(input: { provider: string; subject: string; domain: string; username: string; phone: string | null; phoneUnique: boolean }): Promise<Account | undefined>;
  /** Links (provider, subject) to the account; `taken` when that identity is linked already. */
  link(provider: string, subject: string, accountId: string): Promise<'linked' | 'taken'>;
  /** The upstream identities linked to the account, each with the issuer it was linked at (null: not known yet). */
  listFor(accountId: string): Promise<{ provider: string; subject: string; issuer: string | null }[]>;
}
