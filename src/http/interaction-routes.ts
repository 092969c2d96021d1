import type { KeyObject } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { acrFor, EARLIER_SIGN_IN, UNAVAILABLE_STEP, type LoginChain, type Next } from '../login/chain.ts';
import { AccountGone, loginContext, type RequestFacts } from '../login/context.ts';
import type { Factor, Notice, StepOutcome, StepView } from '../login/factor.ts';
import { recentlyAuthenticated } from '../login/sign-ins.ts';
import { blankFlow, withSlot, type LoginFlow } from '../login/flow.ts';
import type { MessageCatalogue } from '../login/messages.ts';
import { usesToNote } from '../login/noted-use.ts';
import type { Account, AccountStore, AuditLog, FlowStore } from '../login/ports.ts';
import { InteractionGone, type InteractionFacade, type InteractionInfo, type OpenInteraction } from '../oidc/interaction.ts';
import { ACR_MFA, ACR_PHR } from '../shared/acr.ts';
import { addSeconds, type Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { noMetrics, secondsSince, type Metrics } from '../shared/metrics.ts';
import { checkCsrf, formBody, formOf, formToken } from './forms.ts';
import { allowFormTargets } from './security-headers.ts';
import { ACCOUNT_CLIENT_ID } from './account-routes.ts';
import { chooseFor, languageOf, setLanguage } from './language.ts';
import { pageTexts } from './page-texts.ts';
import { redirect303, sendPage, type Views } from './views.ts';
import { accountName } from '../shared/account-name.ts';

interface Deps {
  interactions: InteractionFacade;
  flows: FlowStore;
  accounts: Pick<AccountStore, 'findById'>;
  chain: LoginChain;
  views: Views;
  messages: MessageCatalogue;
  audit: AuditLog;
  clock: Clock;
  /** Keys each login's anti-forgery token, so showing a page needs no stored row. */
  csrfKey: KeyObject;
  interactionTtlSeconds: number;
  /** How recent a session's sign-in must be for a step-up to ask only for the second factor. */
  reauthWindowSeconds: number;
  metrics?: Metrics;
}

const UID = /^[A-Za-z0-9_-]{1,64}$/;

const factsOf = (info: InteractionInfo, ip: string, language?: string): RequestFacts => ({
  uid: info.uid,
  clientId: info.clientId,
  ip,
  policy: {
    mfaRequested: info.acrValues.includes(ACR_MFA),
    // The client's phishing-resistant policy is a required second factor of that kind.
    clientMfa: info.clientMfa === 'phishing-resistant' ? 'required' : info.clientMfa,
    phishingResistant: info.acrValues.includes(ACR_PHR) || info.clientMfa === 'phishing-resistant',
    firstSteps: info.firstSteps,
  },
  loginHint: info.loginHint,
  language,
});

/**
 * The second the session's sign-in is dated (the provider counts whole seconds). A sign-in in the
 * very second of a sign-out everywhere is dated the next one: rows dated in or before that second
 * are never served again, and this sign-in came after it.
 */
function signInSecond(signedOutAt: Date | null, now = Date.now()): number {
  const second = Math.floor(now / 1000);
  return signedOutAt ? Math.max(second, Math.floor(signedOutAt.getTime() / 1000) + 1) : second;
}

/** What the consent page says of a scope or claim: its own text where Keystep has one. */
function scopeText(name: string): { name: string; key: string } {
  const key = `consent.scope.${name}`;
  return { name, key: /^[a-z_]{1,40}$/.test(name) && key in pageTexts && name !== 'other' ? key : 'consent.scope.other' };
}

const unavailableView = (message: string): StepView => ({ view: 'second-factor-unavailable', model: {}, message: { message } });

export function interactionRoutes(deps: Deps): Router {
  const { interactions, flows, chain, views, accounts } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const finished = (client: string, result: 'success' | 'failed' | 'cancelled') => metrics.count('keystep_logins_finished_total', { client, result });
  const router = new Router({ prefix: '/interaction/:uid' });

  // The interaction can end under any request (finished or cancelled by another, expired, its
  // account deleted): whichever call finds it gone, the user gets the start-again page.
  router.use(async (_ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof InteractionGone || err instanceof AccountGone) throw new AppError(400, 'LOGIN_EXPIRED');
      throw err;
    }
  });

  async function load(ctx: Context): Promise<OpenInteraction> {
    const uid = ctx.params.uid ?? '';
    if (!UID.test(uid)) throw new AppError(400, 'LOGIN_EXPIRED');
    const open = await interactions.open(ctx.req, ctx.res, uid);
    // This login's forms lead, through the provider's redirects, to the client.
    allowFormTargets(ctx, open.info.redirectUris);
    // Until its flow is read (languageFor), the app's ui_locales count too: a form refused before
    // that (a wrong anti-forgery token) is answered in the login's language, not only the browser's.
    setLanguage(ctx, chooseFor(ctx, deps.messages, open.info.uiLocales));
    return open;
  }

  const csrfFor = (uid: string) => formToken(deps.csrfKey, 'login', uid);
  const expiry = () => addSeconds(deps.clock.now(), deps.interactionTtlSeconds);

  /** Sends the browser to an upstream provider, the factor's slot saved first for its return. */
  async function leave(ctx: Context, factorId: string, flow: LoginFlow, to: { url: string; slot: unknown }): Promise<void> {
    const { flash: _, ...data } = flow.data;
    if (!(await flows.saveData({ ...flow, data: withSlot(data, factorId, to.slot) }))) return redirect303(ctx, `/interaction/${flow.uid}`);
    redirect303(ctx, to.url);
  }

  /** A posted form's flow, after its anti-forgery token was checked; created by the first post of a login. */
  async function postedFlow(ctx: Context, uid: string): Promise<LoginFlow> {
    checkCsrf(formOf(ctx), csrfFor(uid));
    return flows.findOrCreate(uid, expiry());
  }

  /**
   * The account a login may step up from: one asked for only because the session's sign-in is not
   * strong enough, within the re-auth window, of an account that can sign in and needs the second
   * factor here. Such a login offers to continue as that account with the second factor only. Never
   * automatic: a cross-site navigation to /auth must not send an SMS, and someone else at the same
   * browser can sign in afresh.
   */
  async function steppingUpFrom(flow: LoginFlow, info: InteractionInfo): Promise<Account | undefined> {
    const earlier = info.earlierSignIn;
    if (flow.passed.length || flow.data.fresh || !earlier || !recentlyAuthenticated(earlier.loginTs, deps.reauthWindowSeconds)) return undefined;
    const account = await accounts.findById(earlier.accountId);
    if (!account || account.disabled || !(await chain.secondFactorNeeded(account, factsOf(info, '').policy))) return undefined;
    return account;
  }

  /**
   * The login's language: the one its first form saved, else the app's `ui_locales`, else the
   * browser's `Accept-Language`, else the default. Set for the request, so every page (errors too)
   * and every SMS of this login is in it.
   */
  function languageFor(ctx: Context, info: InteractionInfo, flow: LoginFlow): string {
    // Without a saved one, the choice `load` made from ui_locales and the browser's languages.
    const language = flow.data.language !== undefined && deps.messages.languages.includes(flow.data.language) ? flow.data.language : languageOf(ctx, deps.messages.defaultLanguage);
    setLanguage(ctx, language);
    return language;
  }

  const contextOf = (ctx: Context, flow: LoginFlow, info: InteractionInfo) => loginContext(factsOf(info, ctx.ip, languageOf(ctx, deps.messages.defaultLanguage)), flow, accounts);

  /** A factor's answer to a form (or to the browser's return), counted and timed per factor and outcome. */
  async function submitTo(factor: Factor, login: ReturnType<typeof contextOf>, form: Record<string, string | undefined>): Promise<StepOutcome> {
    const started = performance.now();
    const outcome = await factor.submit(chain.contextFor(factor, login), form);
    metrics.count('keystep_step_results_total', { factor: factor.id, outcome: outcome.kind });
    metrics.observe('keystep_step_duration_seconds', { factor: factor.id, outcome: outcome.kind }, secondsSince(started));
    return outcome;
  }

  /**
   * Hands the login to the provider, once. The progress is saved first, on the version this request
   * read, and marked as being handed over in the same statement: of any number of requests racing to
   * finish one login, exactly one goes on. Should the provider then fail, the mark is taken back and
   * a reload finishes from the saved progress (a spent backup code is not lost).
   */
  async function complete(ctx: Context, open: OpenInteraction, flow: LoginFlow, account: () => Promise<Account>): Promise<void> {
    const { uid, clientId } = open.info;
    // Noted in the hand-over's statement: the second factor used last is offered first next time.
    const used = { factors: await usesToNote(chain.factors, flow, account), at: deps.clock.now() };
    // Not claimed: another request is handing it over, or its account was signed out since its first
    // factor passed (then the login starts again from the first stage).
    const claim = await flows.claimHandover(flow, used);
    if (!claim.claimed) return redirect303(ctx, `/interaction/${uid}`);
    const amr = flow.amr;
    let returnTo: string;
    try {
      returnTo = await open.finishLogin({ accountId: flow.accountId!, acr: acrFor(amr), amr, ts: signInSecond(claim.signedOutAt) });
    } catch (err) {
      await flows.releaseHandover(uid).catch(() => undefined);
      throw err;
    }
    // Gone meanwhile: the account's sessions and logins were ended (a new password, a disabled
    // account) while this one was being handed over. It must not finish.
    if (!(await flows.remove(uid))) {
      return redirect303(ctx, await open.abort('access_denied', 'The sign-in was ended by a change to the account.'));
    }
    await deps.audit.record({ event: 'login.completed', result: 'success', accountId: flow.accountId, clientId, flowUid: uid, ip: ctx.ip, detail: { amr } });
    finished(clientId, 'success');
    redirect303(ctx, returnTo);
  }

  // Keystep's own account page is named in the page's language, not by its registered English name.
  const clientNameOf = (ctx: Context, info: InteractionInfo) => (info.clientId === ACCOUNT_CLIENT_ID ? deps.messages.page('title.account', {}, languageOf(ctx, deps.messages.defaultLanguage)) : info.clientName);
  const page = (ctx: Context, info: InteractionInfo) => ({ uid: info.uid, csrfToken: csrfFor(info.uid), clientName: clientNameOf(ctx, info) });
  const shown = (ctx: Context, notice: Notice | undefined) => notice
    ? { message: deps.messages.text(notice.message, notice.params, languageOf(ctx, deps.messages.defaultLanguage)), messageKind: deps.messages.kind(notice.message) }
    : {};
  const stepOf = (next: Next) => (next.kind === 'step' ? next.factor.id : next.kind === 'unavailable' ? UNAVAILABLE_STEP : undefined);

  router.get('/', async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    // Handed over already (a reload, another tab): on to the provider, which finishes it once.
    if (info.finishedReturnTo) return redirect303(ctx, info.finishedReturnTo);
    // Pages are shown without writing anything, so an anonymous visitor who only opens pages
    // creates no row. The first form posted with the page's token does.
    const stored = (await flows.find(info.uid)) ?? blankFlow(info.uid);
    languageFor(ctx, info, stored);
    if (info.prompt === 'consent') {
      if (!info.consentRequired) return redirect303(ctx, await open.finishConsent());
      return sendPage(ctx, views, 'consent', { ...page(ctx, info), title: 'title.allow-access', scopes: [...info.missingScopes, ...info.missingClaims].map(scopeText) });
    }
    if (stored.handingOver) return sendPage(ctx, views, 'notice', { title: 'title.signing-in', ...page(ctx, info), ...shown(ctx, { message: 'LOGIN_FINISHING' }) });
    const earlier = await steppingUpFrom(stored, info);
    if (earlier) return sendPage(ctx, views, 'continue-session', { title: 'title.sign-in', ...page(ctx, info), step: EARLIER_SIGN_IN, username: accountName(earlier) });
    const login = contextOf(ctx, stored, info);
    const next = await chain.next(login);
    if (next.kind === 'done') {
      if (!stored.data.notice) return complete(ctx, open, stored, login.account);
      return sendPage(ctx, views, 'notice', { title: 'title.signed-in', ...page(ctx, info), ...shown(ctx, stored.data.notice) });
    }
    const flash = stored.data.flash;
    // A message is shown once: a reload shows the plain form.
    if (flash) await flows.saveData({ ...stored, data: { ...stored.data, flash: undefined } });
    const view = next.kind === 'step' ? await next.factor.show(chain.contextFor(next.factor, login)) : unavailableView(next.message);
    if (view.redirect && next.kind === 'step') return leave(ctx, next.factor.id, await flows.findOrCreate(info.uid, expiry()), view.redirect);
    allowFormTargets(ctx, next.alternatives.flatMap((o) => (o.target ? [o.target] : [])));
    sendPage(ctx, views, view.view, {
      title: 'title.sign-in',
      ...view.model,
      ...page(ctx, info),
      step: stepOf(next),
      // Written out here rather than in the view, so that a page copied from an older Keystep shows them too.
      alternatives: next.alternatives.map((o) => ({ ...o, label: deps.messages.page(o.label, o.labelParams ?? {}, languageOf(ctx, deps.messages.defaultLanguage)) })),
      ...shown(ctx, flash ?? view.message),
    });
  });

  router.post('/', formBody(), async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    const posted = await postedFlow(ctx, info.uid);
    // Kept with the login from its first form on: later pages and its SMS agree.
    const stored: LoginFlow = { ...posted, data: { ...posted.data, language: languageFor(ctx, info, posted) } };
    if (info.prompt !== 'login') return redirect303(ctx, `/interaction/${info.uid}`);
    const form = formOf(ctx);
    const back = () => redirect303(ctx, `/interaction/${info.uid}`);
    const earlier = await steppingUpFrom(stored, info);
    if (earlier || form.step === EARLIER_SIGN_IN) {
      if (!earlier || form.step !== EARLIER_SIGN_IN) return back();
      // Saved with the account, so that a sign-out everywhere ends this login too.
      if (form.action === 'continue') await flows.save(chain.steppingUp(stored, earlier, info.earlierSignIn!.amr));
      else await flows.saveData({ ...stored, data: { ...stored.data, fresh: true } });
      return back();
    }
    const login = contextOf(ctx, stored, info);
    const next = await chain.next(login);
    // A form from an earlier step (back button, second tab) must not act on the current one.
    if (next.kind === 'done' || form.step !== stepOf(next)) return back();
    const retry = async (notice: Notice, data = stored.data) => {
      await flows.saveData({ ...stored, data: { ...data, flash: notice } });
      back();
    };

    // "Use another method": the page offered that factor; the choice holds until a stage passes.
    const target = chain.switchTarget(next, form.action);
    const starting = target ? chain.factor(target) : undefined;
    // A way into a factor with several (an upstream provider): the factor starts it at once.
    if (starting?.starts) return settle(ctx, open, stored, starting, await submitTo(starting, login, form));
    if (target) {
      await flows.saveData({ ...stored, data: { ...stored.data, choice: target } });
      return back();
    }
    if (next.kind === 'unavailable') return back();
    const { factor } = next;
    if (form.action && !factor.actions.includes(form.action)) return retry({ message: 'STALE_FORM' });
    return settle(ctx, open, stored, factor, await submitTo(factor, login, form));
  });

  /**
   * The browser back from an upstream provider (through its fixed callback, which only forwards):
   * this browser's interaction cookie opens the login, and the factor checks the answer against the
   * state its slot kept. Only a first-stage factor of this login that takes a return gets it.
   */
  router.get('/return/:factor', async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    const stored = await flows.find(info.uid);
    if (!stored || info.prompt !== 'login') return redirect303(ctx, `/interaction/${info.uid}`);
    languageFor(ctx, info, stored);
    const login = contextOf(ctx, stored, info);
    const next = await chain.next(login);
    const factor = chain.factor(ctx.params.factor ?? '');
    const ofThisStage = next.kind === 'step' && (next.factor === factor || next.alternatives.some((o) => o.factor === factor?.id));
    if (!factor || !ofThisStage || !factor.actions.includes('return')) return redirect303(ctx, `/interaction/${info.uid}`);
    const params = Object.fromEntries(Object.entries(ctx.query).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
    return settle(ctx, open, stored, factor, await submitTo(factor, login, { ...params, action: 'return' }));
  });

  /** What follows a factor's answer to a form (or to the browser's return from elsewhere). */
  async function settle(ctx: Context, open: OpenInteraction, stored: LoginFlow, factor: Factor, outcome: StepOutcome): Promise<void> {
    const { info } = open;
    const back = () => redirect303(ctx, `/interaction/${info.uid}`);
    switch (outcome.kind) {
      case 'passed': {
        const passed = chain.passed(stored, factor, outcome);
        // The last step: finishing saves with the same check.
        const after = await chain.next(loginContext(factsOf(info, ctx.ip, languageOf(ctx, deps.messages.defaultLanguage)), passed, accounts, outcome.account));
        if (!outcome.notice && after.kind === 'done') return complete(ctx, open, passed, async () => outcome.account);
        // Saved before anything else happens: if a concurrent request moved this login on first,
        // this one stops here (no next step on a stale account).
        await flows.save(passed);
        return back();
      }
      case 'retry': {
        const data = outcome.slot === undefined ? stored.data : withSlot(stored.data, factor.id, outcome.slot);
        await flows.saveData({ ...stored, data: { ...data, flash: { message: outcome.message, params: outcome.params } } });
        return back();
      }
      case 'redirect':
        return leave(ctx, factor.id, stored, outcome);
      case 'failed': {
        const returnTo = await open.abort('access_denied', deps.messages.text(outcome.message));
        await flows.remove(info.uid);
        finished(info.clientId, 'failed');
        return redirect303(ctx, returnTo);
      }
    }
  }

  // After a notice (e.g. backup codes left), the user goes on to the app.
  router.post('/continue', formBody(), async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    const stored = await flows.find(info.uid);
    if (!stored || info.prompt !== 'login') return redirect303(ctx, `/interaction/${info.uid}`);
    const login = contextOf(ctx, stored, info);
    if ((await chain.next(login)).kind !== 'done') return redirect303(ctx, `/interaction/${info.uid}`);
    return complete(ctx, open, login.flow, login.account);
  });

  router.post('/consent', formBody(), async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    if (info.prompt !== 'consent') return redirect303(ctx, `/interaction/${info.uid}`);
    const returnTo = await open.finishConsent();
    await deps.audit.record({ event: 'consent.granted', result: 'success', accountId: info.sessionAccountId, clientId: info.clientId, flowUid: info.uid, ip: ctx.ip });
    await flows.remove(info.uid);
    redirect303(ctx, returnTo);
  });

  router.post('/cancel', formBody(), async (ctx) => {
    const open = await load(ctx);
    const { info } = open;
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    const flow = await flows.find(info.uid);
    const returnTo = await open.abort('access_denied', 'The user cancelled the sign-in.');
    await deps.audit.record({ event: 'login.cancelled', result: 'info', accountId: flow?.accountId ?? null, clientId: info.clientId, flowUid: info.uid, ip: ctx.ip });
    finished(info.clientId, 'cancelled');
    await flows.remove(info.uid);
    redirect303(ctx, returnTo);
  });

  return router;
}
