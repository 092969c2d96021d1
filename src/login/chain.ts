import { ACR_MFA, ACR_PASSWORD } from '../shared/acr.ts';
import { handOnAccount } from './request-account.ts';
import type { LoginState, LoginStep, StepId, StepOutcome } from './types.ts';

type PassedOutcome = StepOutcome & { kind: 'passed' };

/**
 * An ordered list of steps, like the provider's prompts and checks: the next step is the first one
 * that applies and has not passed. Adding a step is one file and one line in the list given here.
 */
export class LoginChain {
  readonly steps: readonly LoginStep[];

  constructor(steps: readonly LoginStep[]) {
    this.steps = steps;
  }

  async next(state: LoginState): Promise<LoginStep | undefined> {
    for (const step of this.steps) {
      if (state.passed.includes(step.id)) continue;
      if (await step.appliesTo(state)) return step;
    }
    return undefined;
  }
}

/**
 * RFC 8176 values for what was proven, with `mfa` once two distinct factors passed or a step
 * vouched for it (a backup code has no RFC 8176 value of its own, but is a second factor).
 */
export function amrFor(amr: readonly string[]): string[] {
  const factors = new Set(amr.filter((v) => v !== 'mfa'));
  const out = [...factors];
  if (factors.size >= 2 || amr.includes('mfa')) out.push('mfa');
  return out;
}

export function acrFor(amr: readonly string[]): string {
  return amr.includes('mfa') ? ACR_MFA : ACR_PASSWORD;
}

/** The state after a step passed: its factor added, its data kept, the last message dropped. */
export function markPassed(state: LoginState, id: StepId, outcome: PassedOutcome): LoginState {
  const { flash: _, ...data } = state.data;
  const next = {
    ...state,
    accountId: outcome.accountId,
    accountSignOuts: state.accountSignOuts ?? outcome.account?.signOuts ?? null,
    passed: [...state.passed, id],
    amr: amrFor([...state.amr, ...outcome.amr]),
    data: { ...data, ...outcome.data, notice: outcome.notice },
  };
  if (outcome.account) handOnAccount(next, outcome.account);
  return next;
}
