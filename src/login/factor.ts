import type { z } from 'zod';
import type { LoginFlow, Notice } from './flow.ts';
import type { Account } from './ports.ts';

export type { Notice } from './flow.ts';

/** The stages of a login, in order: who you are, then a second factor when the policy asks for one. */
export type Stage = 'first' | 'second';

/** What the request and the client ask of this login. */
export interface LoginPolicy {
  /** The request named the MFA acr in acr_values (step-up). */
  mfaRequested: boolean;
  /** The client's own setting; null follows the global `smsOtp.mandatory`. */
  clientMfa: 'required' | 'optional' | null;
  /**
   * The request named the phishing-resistant acr, or the client's policy is `phishing-resistant`:
   * the second factor is needed, and only a phishing-resistant one (`Factor.phishingResistant`) counts.
   */
  phishingResistant?: boolean | undefined;
  /**
   * The client's first steps: factor ids (`password`) and options of a factor (`idp:<name>`, read
   * by the factor that has `starts`). Undefined: password only.
   */
  firstSteps?: readonly string[] | undefined;
}

/** What a request tells of its login before the flow is read: who asks, from where, under which policy. */
export interface RequestFacts {
  uid: string;
  clientId: string;
  ip: string | null;
  policy: LoginPolicy;
  /** The app's guess at who is signing in (OIDC `login_hint`), to fill in the username; never trusted. */
  loginHint?: string | undefined;
  /** The language of this login's pages (a tag the catalogue has); its SMS are sent in it. */
  language?: string | undefined;
}

/** One request of one login, passed explicitly to every factor (nothing about a login is kept per module). */
export interface LoginContext extends RequestFacts {
  flow: LoginFlow;
  /** The account the first stage found, read at most once per request. Only for second-stage factors. */
  account(): Promise<Account>;
}

/** A factor's view of the context: its own slot of the flow, read through its schema. */
export interface FactorContext<Slot> extends LoginContext {
  slot: Slot | undefined;
}

export type Form = Record<string, string | undefined>;

export interface StepView {
  view: string;
  model: Record<string, unknown>;
  /** A message the step itself wants shown (a message from the last submit takes precedence). */
  message?: Notice | undefined;
  /**
   * Instead of a page, the browser goes elsewhere (an upstream provider), and the factor's slot is
   * kept for its return: the one GET that writes, for a login whose only way in is that provider.
   */
  redirect?: { url: string; slot: unknown } | undefined;
}

/** The same step again, with a message. */
export interface Retry {
  kind: 'retry';
  message: string;
  params?: Record<string, string | number> | undefined;
}

/** The login ends with access_denied (a rule of the factor says no second try). */
export interface Failed {
  kind: 'failed';
  message: string;
}

/** `slot`: the factor's new slot (null empties it; absent keeps it). */
export type StepOutcome<Slot = unknown> =
  // The account the factor proved; a first factor's read goes with the login (its sign-out count).
  | { kind: 'passed'; account: Account; amr?: readonly string[]; notice?: Notice; slot?: Slot | null }
  | (Retry & { slot?: Slot | null | undefined })
  // The browser goes to `url` (an upstream provider) and comes back to the factor's `return` action.
  | { kind: 'redirect'; url: string; slot: Slot }
  | Failed;

/** How a page of one factor offers another of its stage (a button posting `action`). */
export interface Offer {
  action: string;
  /** The button's text key, in the factor's `texts` (a label that is no key is shown as it is). */
  label: string;
  /** The label's arguments (an upstream provider's display name). */
  labelParams?: Record<string, string>;
  /** The factor a start offer starts (set for `starts` offers, whose actions are not static). */
  factor?: string;
  /** Where a start offer's form leads the browser (an upstream's origin), for the page's form-action. */
  target?: string;
}

/**
 * A way to sign in. The chain decides when a factor runs and which others its page offers; a
 * factor knows only itself. `role` places a second-stage factor: `enrol` runs when the account has
 * none of its stage's factors (and passes the stage by enrolling one), `fallback` is never picked
 * first and does not by itself make a second factor needed (backup codes).
 */
export interface Factor<Slot = unknown> {
  readonly id: string;
  readonly stage: Stage;
  readonly role?: 'enrol' | 'fallback';
  /** RFC 8176 values a pass proves (`mfa` is added by the chain once two stages passed). */
  readonly amr: readonly string[];
  readonly slot?: z.ZodType<Slot>;
  /** The `action` values its own forms post; any other (but an offer) is a stale form. */
  readonly actions: readonly string[];
  readonly offer?: Offer;
  /** A pass cannot be relayed by a look-alike site (WebAuthn binds its signature to the origin). */
  readonly phishingResistant?: boolean;
  /**
   * A first-stage factor with several ways in (one per upstream provider the client allows): one
   * offer per way, each an action of its own, shown on its stage's page; none: it is not offered.
   * A first-stage factor without it is offered when the client's first steps name its id.
   */
  starts?(ctx: LoginContext): Promise<Offer[]>;
  /**
   * A first-stage factor after which the second stage runs even where the account or the global
   * settings would skip it: only a client whose MFA policy is `optional` skips it.
   */
  readonly secondStageUnlessOptional?: boolean;
  /**
   * Whether the account has this factor (a first-stage factor is not asked). A factor whose answer
   * is in a store of its own answers with a promise; the chain asks each factor once per decision.
   */
  enrolled(account: Account): boolean | Promise<boolean>;
  show(ctx: FactorContext<Slot>): Promise<StepView>;
  submit(ctx: FactorContext<Slot>, form: Form): Promise<StepOutcome<Slot>>;
}

/** A factor together with what the rest of Keystep needs to know about it: its texts. */
export interface FactorModule<Deps> {
  readonly id: string;
  /** Its message codes and their English texts (ICU MessageFormat). */
  readonly messages: Readonly<Record<string, string>>;
  /** The English texts of its pages (views/factors/<id>/), its offer's label, its SMS. */
  readonly texts?: Readonly<Record<string, string>>;
  /** Its messages that report progress rather than a problem. */
  readonly info?: readonly string[];
  /** Its messages and texts in other languages (`de`, `fr`: every key), by language. */
  readonly translations?: Readonly<Partial<Record<string, Readonly<Record<string, string>>>>>;
  /** The audit event of its sign-in tries, and the text key of how the account page's "recent sign-ins" names it. */
  readonly signInEvent?: { event: string; label: string };
  /** The factor, or undefined when the settings switch it off. */
  build(deps: Deps): Factor | undefined;
}
