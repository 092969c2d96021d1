import { ACR_MFA, ACR_PASSWORD, ACR_PHR } from '../shared/acr.ts';
import { readSlot, withSlot, type LoginFlow } from './flow.ts';
import type { Factor, FactorContext, LoginContext, LoginPolicy, Offer, Stage, StepOutcome } from './factor.ts';
import type { Account } from './ports.ts';

/** When a second factor is asked for (the global `smsOtp.mandatory` and `smsOtp.enableByUserClaim`). */
export interface SecondFactorSettings {
  mandatory: boolean;
  enableByUserClaim: boolean;
}

/** The id recorded for a first stage passed in an earlier sign-in of the same session (step-up). */
export const EARLIER_SIGN_IN = 'session';

/** What the login needs next. */
export type Next =
  | { kind: 'step'; factor: Factor; alternatives: Offer[] }
  // A second factor is needed but the account has none it can use here: only the alternatives (and
  // cancel), and the message code that says why.
  | { kind: 'unavailable'; alternatives: Offer[]; message: 'NO_SECOND_FACTOR' | 'NO_PHISHING_RESISTANT_FACTOR' }
  | { kind: 'done' };

/** The form id of the page shown when no factor can be used. */
export const UNAVAILABLE_STEP = 'none';

/**
 * RFC 8176 values for what was proven, with `mfa` once two distinct factors passed or a factor
 * vouched for it (a backup code has no RFC 8176 value of its own, but is a second factor).
 */
export function amrFor(amr: readonly string[]): string[] {
  const factors = new Set(amr.filter((v) => v !== 'mfa'));
  const out = [...factors];
  if (factors.size >= 2 || amr.includes('mfa')) out.push('mfa');
  return out;
}

/**
 * RFC 8176's proof of possession of a key, hardware or software; Keystep issues them only for a
 * passkey, whose signature WebAuthn binds to Keystep's origin (a look-alike site cannot relay it).
 */
const PHISHING_RESISTANT_AMR: ReadonlySet<string> = new Set(['hwk', 'swk']);

/** `phr` for two factors one of which is phishing-resistant, `mfa` for other two-factor sign-ins. */
export function acrFor(amr: readonly string[]): string {
  if (!amr.includes('mfa')) return ACR_PASSWORD;
  return amr.some((v) => PHISHING_RESISTANT_AMR.has(v)) ? ACR_PHR : ACR_MFA;
}

/**
 * The login's policy as data: an ordered list of factors, each of a stage. The first stage runs
 * the chosen (or first) first-stage factor; the second runs when `secondFactorNeeded` says so,
 * with the account's enrolled factors (the chosen one, else the first listed), an enrolling factor
 * when it has none, and the rest of the stage offered as alternatives on the page. No factor
 * names another: adding one is one entry in the list.
 */
export function loginChain(factors: readonly Factor[], settings: SecondFactorSettings) {
  const byId = new Map(factors.map((f) => [f.id, f]));
  const amrAskingSecond = new Set(factors.filter((f) => f.secondStageUnlessOptional).flatMap((f) => f.amr));
  const of = (stage: Stage) => factors.filter((f) => f.stage === stage);
  const stagePassed = (flow: LoginFlow, stage: Stage, counts: (f: Factor) => boolean = () => true) =>
    flow.passed.some((id) => (id === EARLIER_SIGN_IN ? stage === 'first' : byId.get(id)?.stage === stage && counts(byId.get(id)!)));
  // Where phishing resistance is asked, only such factors are candidates, and only they pass the stage.
  const counts = (policy: LoginPolicy) => (f: Factor) => !policy.phishingResistant || f.phishingResistant === true;
  const offers = (candidates: readonly Factor[], current: Factor | undefined) =>
    candidates.filter((f) => f !== current && f.offer).map((f) => f.offer!);

  /** The second-stage factors the account has, each asked once (an enrolling factor is not asked). */
  async function enrolledOf(account: Account): Promise<ReadonlySet<Factor>> {
    const asked = of('second').filter((f) => f.role !== 'enrol');
    const answers = await Promise.all(asked.map((f) => f.enrolled(account)));
    return new Set(asked.filter((_, i) => answers[i]));
  }

  /**
   * When the account last had this factor pass (or, not used yet, added it): the one used last is
   * offered first, a new one right after it is added. A factor with no record of its own (the SMS
   * code before its first use is noted) goes after those with one, in the registry's order.
   */
  const recency = (account: Account, factor: Factor) => {
    const record = account.factors.find((f) => f.id === factor.id);
    return record ? (record.lastUsedAt ?? record.enrolledAt).getTime() : 0;
  };

  /** The second-stage factors this account can use here, in the order they are offered. */
  function secondOptions(enrolled: ReadonlySet<Factor>, account: Account, policy: LoginPolicy): Factor[] {
    const second = of('second').filter(counts(policy));
    // A stable sort: equal times keep the registry's order.
    const primary = second.filter((f) => !f.role && enrolled.has(f)).sort((a, b) => recency(account, b) - recency(account, a));
    const fallbacks = second.filter((f) => f.role === 'fallback' && enrolled.has(f));
    return primary.length ? [...primary, ...fallbacks] : [...second.filter((f) => f.role === 'enrol'), ...fallbacks];
  }

  /** The policy's answer before any factor is asked, when it has one. */
  function neededByPolicy(account: Account, policy: LoginPolicy): boolean | undefined {
    if (policy.mfaRequested || policy.phishingResistant || policy.clientMfa === 'required') return true;
    if (settings.enableByUserClaim && account.smsOtpExempt) return false;
    return undefined;
  }

  function neededByEnrolment(enrolled: ReadonlySet<Factor>, policy: LoginPolicy): boolean {
    if ([...enrolled].some((f) => !f.role)) return true;
    return policy.clientMfa === 'optional' ? false : settings.mandatory;
  }

  /**
   * Whether this login needs a second factor. A request for the MFA level (acr_values) or a client
   * that requires it beats everything, the per-account exemption included. Otherwise an exempt
   * account skips it, an account with a second factor does it, and one without does it only when
   * it is mandatory (and then enrols one, or meets a page that says why it cannot go on).
   */
  async function secondFactorNeeded(account: Account, policy: LoginPolicy, sessionAmr: readonly string[] = []): Promise<boolean> {
    // A session from a first-stage factor that asks for the second stage (an upstream sign-in a
    // client let through with `--mfa optional`) does not carry to a client that does not allow it.
    if (policy.clientMfa !== 'optional' && sessionAmr.some((a) => amrAskingSecond.has(a))) return true;
    return neededByPolicy(account, policy) ?? neededByEnrolment(await enrolledOf(account), policy);
  }

  /**
   * The first stage as the client allows it: the factors its first steps name (password only by
   * default), and those with several ways in (`starts`) that offer at least one. Every way in of
   * the latter is an alternative on the stage's page, its own page included.
   */
  async function firstStage(ctx: LoginContext): Promise<Next> {
    const steps = ctx.policy.firstSteps ?? ['password'];
    const candidates: Factor[] = [];
    const starts: Offer[] = [];
    for (const f of of('first')) {
      if (!f.starts) {
        if (steps.includes(f.id)) candidates.push(f);
        continue;
      }
      const ways = await f.starts(ctx);
      if (ways.length) candidates.push(f);
      starts.push(...ways.map((o) => ({ ...o, factor: f.id })));
    }
    const chosen = candidates.find((f) => f.id === ctx.flow.data.choice) ?? candidates[0];
    // A client whose first steps name nothing Keystep has (a provider removed since) still signs in with a password.
    if (!chosen) return pick(of('first').filter((f) => !f.starts), undefined);
    return { kind: 'step', factor: chosen, alternatives: [...offers(candidates, chosen), ...starts] };
  }

  /** A passed first-stage factor that asks for the second stage whatever the account's settings (an upstream sign-in). */
  const firstAsksSecond = (flow: LoginFlow) => flow.passed.some((id) => byId.get(id)?.secondStageUnlessOptional === true);

  function pick(candidates: readonly Factor[], choice: string | undefined, policy?: LoginPolicy): Next {
    const chosen = candidates.find((f) => f.id === choice) ?? candidates.find((f) => f.role !== 'fallback');
    if (!chosen) {
      const message = policy?.phishingResistant ? 'NO_PHISHING_RESISTANT_FACTOR' : 'NO_SECOND_FACTOR';
      return { kind: 'unavailable', alternatives: offers(candidates, undefined), message };
    }
    return { kind: 'step', factor: chosen, alternatives: offers(candidates, chosen) };
  }

  return {
    factors,
    secondFactorNeeded,
    factor: (id: string) => byId.get(id),

    async next(ctx: LoginContext): Promise<Next> {
      const { flow } = ctx;
      if (!stagePassed(flow, 'first')) return firstStage(ctx);
      if (stagePassed(flow, 'second', counts(ctx.policy))) return { kind: 'done' };
      const account = await ctx.account();
      // Never skipped in silence after an upstream sign-in: only a client that allows it skips it.
      const decided = firstAsksSecond(flow) && ctx.policy.clientMfa !== 'optional' ? true : neededByPolicy(account, ctx.policy);
      // Each factor is asked once for this decision, and only when the policy left it open or a step follows.
      const enrolled = decided === false ? new Set<Factor>() : await enrolledOf(account);
      if (!(decided ?? neededByEnrolment(enrolled, ctx.policy))) {
        // A login that continued an earlier sign-in proves nothing new without a second factor:
        // should the policy no longer ask for one, it signs in afresh rather than finish as is.
        const onlyEarlier = flow.passed.every((id) => id === EARLIER_SIGN_IN);
        return onlyEarlier ? firstStage(ctx) : { kind: 'done' };
      }
      return pick(secondOptions(enrolled, account, ctx.policy), flow.data.choice, ctx.policy);
    },

    /** The factor's view of the context, with its slot. */
    contextFor<Slot>(factor: Factor<Slot>, ctx: LoginContext): FactorContext<Slot> {
      return { ...ctx, slot: factor.slot ? readSlot(ctx.flow.data, factor.id, factor.slot) : undefined };
    },

    /** The factor an offer's action switches to, if the page offered it. */
    switchTarget(next: Next, action: string | undefined): string | undefined {
      if (next.kind === 'done' || action === undefined) return undefined;
      const offer = next.alternatives.find((o) => o.action === action);
      return offer && (offer.factor ?? factors.find((f) => f.offer === offer)?.id);
    },

    /** The flow after a factor passed: its id and amr added, its slot kept, the last message dropped. */
    passed(flow: LoginFlow, factor: Factor, outcome: StepOutcome & { kind: 'passed' }): LoginFlow {
      const { flash: _, ...data } = withSlot(flow.data, factor.id, outcome.slot === undefined ? flow.data.slots[factor.id] : outcome.slot);
      return {
        ...flow,
        accountId: outcome.account.id,
        // The first stage's read of the account: the login is handed over only while its sign-out count holds.
        accountSignOuts: factor.stage === 'first' ? outcome.account.signOuts : flow.accountSignOuts,
        passed: [...flow.passed, factor.id],
        amr: amrFor([...flow.amr, ...(outcome.amr ?? factor.amr)]),
        data: { ...data, choice: undefined, notice: outcome.notice },
      };
    },

    /** A login that continues a session's earlier sign-in (its first stage, within the re-auth window) is asked only for the second. */
    steppingUp(flow: LoginFlow, account: Account, sessionAmr: readonly string[]): LoginFlow {
      // The earlier sign-in's methods, but not a passkey's: phishing resistance is claimed only when
      // this login's own second factor was one.
      return { ...flow, accountId: account.id, accountSignOuts: account.signOuts, passed: [EARLIER_SIGN_IN], amr: sessionAmr.filter((v) => v !== 'mfa' && !PHISHING_RESISTANT_AMR.has(v)) };
    },
  };
}

export type LoginChain = ReturnType<typeof loginChain>;
