import type { MessageCode } from './messages.ts';
import type { Account } from './ports.ts';

export type StepId = 'password' | 'phone-capture' | 'sms-otp' | 'backup-code';

/** Everything a step may know about the login in progress. */
export interface LoginState {
  uid: string;
  clientId: string;
  ip: string | null;
  accountId: string | null;
  passed: StepId[];
  amr: string[];
  /** Per-step data kept between requests (never secrets in plain text). */
  data: Record<string, unknown>;
  /** What the request and the client ask of this login (acr_values, the client's MFA policy). */
  policy: LoginPolicy;
  /** The account's sign-out count as the first factor read it with its credential (see LoginFlow). */
  accountSignOuts: number | null;
  /** The app's guess at who is signing in (OIDC `login_hint`), to fill in the username; never trusted. */
  loginHint?: string | undefined;
}

export interface LoginPolicy {
  /** The request named the MFA acr in acr_values (step-up). */
  mfaRequested: boolean;
  /** The client's own setting; null follows the global `smsOtp.mandatory`. */
  clientMfa: 'required' | 'optional' | null;
}

export type Form = Record<string, string | undefined>;

export interface StepView {
  view: string;
  model: Record<string, unknown>;
  /** A message the step itself wants shown (a message from the last submit takes precedence). */
  message?: Notice | undefined;
}

export type StepOutcome =
  // A first factor hands on the account it checked the credential against (its sign-out count goes with the login).
  | { kind: 'passed'; accountId: string; amr: readonly string[]; data?: Record<string, unknown>; notice?: Notice; account?: Account }
  | { kind: 'retry'; message: MessageCode; params?: Record<string, string | number>; data?: Record<string, unknown> }
  | { kind: 'switch'; to: StepId; data?: Record<string, unknown> }
  | { kind: 'failed'; message: MessageCode };

/** Something to tell the user once the login is done, before returning to the app. */
export interface Notice {
  message: MessageCode;
  params?: Record<string, string | number>;
}

export interface LoginStep {
  readonly id: StepId;
  appliesTo(state: LoginState): boolean | Promise<boolean>;
  show(state: LoginState): Promise<StepView>;
  submit(state: LoginState, form: Form): Promise<StepOutcome>;
}
