import type { KeyObject } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { acrFor, markPassed, type LoginChain } from '../login/chain.ts';
import { infoMessages, messageText } from '../login/messages.ts';
import type { AuditLog, FlowStore, LoginFlow } from '../login/ports.ts';
import type { LoginState, Notice, StepId } from '../login/types.ts';
import { InteractionGone, type InteractionFacade, type InteractionInfo } from '../oidc/interaction.ts';
import { ACR_MFA } from '../shared/acr.ts';
import { addSeconds, type Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { checkCsrf, formBody, formOf, formToken } from './forms.ts';
import { allowFormTargets } from './security-headers.ts';
import { redirect303, sendPage, type Views } from './views.ts';

interface Deps {
  interactions: InteractionFacade;
  flows: FlowStore;
  chain: LoginChain;
  views: Views;
  audit: AuditLog;
  clock: Clock;
  /** Keys each login's anti-forgery token, so showing a page needs no stored row. */
  csrfKey: KeyObject;
  interactionTtlSeconds: number;
}

const UID = /^[A-Za-z0-9_-]{1,64}$/;

function toState(flow: LoginFlow, info: InteractionInfo, ip: string): LoginState {
  return {
    uid: flow.uid,
    clientId: info.clientId,
    ip,
    accountId: flow.accountId,
    accountSignOuts: flow.accountSignOuts,
    passed: flow.passed as StepId[],
    amr: flow.amr,
    data: flow.data,
    policy: { mfaRequested: info.acrValues.includes(ACR_MFA), clientMfa: info.clientMfa },
    loginHint: info.loginHint,
  };
}

/**
 * The second the session's sign-in is dated (the provider counts whole seconds). A sign-in in the
 * very second of a sign-out everywhere is dated the next one: rows dated in or before that second
 * are never served again, and this sign-in came after it.
 */
function signInSecond(signedOutAt: Date | null, now = Date.now()): number {
  const second = Math.floor(now / 1000);
  return signedOutAt ? Math.max(second, Math.floor(signedOutAt.getTime() / 1000) + 1) : second;
}

export function interactionRoutes(deps: Deps): Router {
  const { interactions, flows, chain, views } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });

  // The interaction can end under any request (finished or cancelled by another, expired): whichever
  // call finds it gone, the user gets the start-again page.
  router.use(async (_ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof InteractionGone) throw new AppError(400, 'LOGIN_EXPIRED');
      throw err;
    }
  });

  async function load(ctx: Context) {
    const uid = ctx.params.uid ?? '';
    if (!UID.test(uid)) throw new AppError(400, 'LOGIN_EXPIRED');
    const info = await interactions.details(ctx.req, ctx.res, uid);
    // This login's forms lead, through the provider's redirects, to the client.
    allowFormTargets(ctx, info.redirectUris);
    return info;
  }

  const csrfFor = (uid: string) => formToken(deps.csrfKey, 'login', uid);

  /**
   * The login as stored, or a blank one: pages are shown without writing anything, so an anonymous
   * visitor who only opens pages creates no row. The first form posted with the page's token does.
   */
  async function shownFlow(uid: string): Promise<LoginFlow> {
    return (await flows.find(uid)) ?? { uid, accountId: null, accountSignOuts: null, passed: [], amr: [], data: {}, version: 0, handingOver: false };
  }

  /** A posted form's flow, after its anti-forgery token was checked; created by the first post of a login. */
  async function postedFlow(ctx: Context, uid: string): Promise<LoginFlow> {
    checkCsrf(formOf(ctx), csrfFor(uid));
    return flows.findOrCreate(uid, addSeconds(deps.clock.now(), deps.interactionTtlSeconds));
  }

  /**
   * Hands the login to the provider, once. The progress is saved first, on the version this request
   * read, and marked as being handed over in the same statement: of any number of requests racing to
   * finish one login, exactly one goes on. Should the provider then fail, the mark is taken back and
   * a reload finishes from the saved progress (a spent backup code is not lost).
   */
  async function complete(ctx: Context, state: LoginState, flow: LoginFlow): Promise<void> {
    const finished = { ...flow, accountId: state.accountId, accountSignOuts: state.accountSignOuts, passed: state.passed, amr: state.amr, data: state.data };
    // Not claimed: another request is handing it over, or its account was signed out since its first
    // factor passed (then the login starts again from the password).
    const claim = await flows.claimHandover(finished);
    if (!claim.claimed) return redirect303(ctx, `/interaction/${state.uid}`);
    const amr = state.amr;
    let returnTo: string;
    try {
      returnTo = await interactions.finishLogin(ctx.req, ctx.res, state.uid, { accountId: state.accountId!, acr: acrFor(amr), amr, ts: signInSecond(claim.signedOutAt) });
    } catch (err) {
      await flows.releaseHandover(state.uid).catch(() => undefined);
      throw err;
    }
    // Gone meanwhile: the account's sessions and logins were ended (a new password, a disabled
    // account) while this one was being handed over. It must not finish.
    if (!(await flows.remove(state.uid))) {
      return redirect303(ctx, await interactions.abort(ctx.req, ctx.res, state.uid, 'access_denied', 'The sign-in was ended by a change to the account.'));
    }
    await deps.audit.record({ event: 'login.completed', result: 'success', accountId: state.accountId, clientId: state.clientId, flowUid: state.uid, ip: state.ip, detail: { amr } });
    redirect303(ctx, returnTo);
  }

  const page = (info: InteractionInfo) => ({ uid: info.uid, csrfToken: csrfFor(info.uid), clientName: info.clientName });
  const shown = (notice: Notice | undefined) => notice
    ? { message: messageText(notice.message, notice.params), messageKind: infoMessages.has(notice.message) ? 'info' : 'error' }
    : {};

  router.get('/', async (ctx) => {
    const info = await load(ctx);
    // Handed over already (a reload, another tab): on to the provider, which finishes it once.
    if (info.finishedReturnTo) return redirect303(ctx, info.finishedReturnTo);
    const flow = await shownFlow(info.uid);
    if (info.prompt === 'consent') {
      if (!info.consentRequired) return redirect303(ctx, await interactions.finishConsent(ctx.req, ctx.res, info.uid));
      return sendPage(ctx, views, 'consent', { ...page(info), title: 'Allow access', scopes: [...info.missingScopes, ...info.missingClaims] });
    }
    if (flow.handingOver) return sendPage(ctx, views, 'notice', { title: 'Signing in', ...page(info), ...shown({ message: 'LOGIN_FINISHING' }) });
    const state = toState(flow, info, ctx.ip);
    const step = await chain.next(state);
    if (!step) {
      const notice = flow.data.notice as Notice | undefined;
      if (!notice) return complete(ctx, state, flow);
      return sendPage(ctx, views, 'notice', { title: 'Signed in', ...page(info), ...shown(notice) });
    }
    const flash = flow.data.flash as Notice | undefined;
    if (flash) {
      // A message is shown once: a reload shows the plain form.
      const { flash: _, ...data } = flow.data;
      await flows.saveData({ ...flow, data });
    }
    const view = await step.show(state);
    sendPage(ctx, views, view.view, {
      title: 'Sign in',
      ...view.model,
      ...page(info),
      step: step.id,
      ...shown(flash ?? view.message),
    });
  });

  router.post('/', formBody(), async (ctx) => {
    const info = await load(ctx);
    const flow = await postedFlow(ctx, info.uid);
    if (info.prompt !== 'login') return redirect303(ctx, `/interaction/${info.uid}`);
    const state = toState(flow, info, ctx.ip);
    const step = await chain.next(state);
    const form = formOf(ctx);
    // A form from an earlier step (back button, second tab) must not act on the current one.
    if (!step || form.step !== step.id) return redirect303(ctx, `/interaction/${info.uid}`);

    const outcome = await step.submit(state, form);
    switch (outcome.kind) {
      case 'passed': {
        const next = markPassed(state, step.id, outcome);
        // The last step: finishing saves with the same check.
        if (!outcome.notice && !(await chain.next(next))) return complete(ctx, next, flow);
        // Saved before anything else happens: if a concurrent request moved this login on first,
        // this one stops here (no next step on a stale account).
        await flows.save({ ...flow, accountId: next.accountId, accountSignOuts: next.accountSignOuts, passed: next.passed, amr: next.amr, data: next.data });
        return redirect303(ctx, `/interaction/${info.uid}`);
      }
      case 'retry':
        await flows.saveData({ ...flow, data: { ...flow.data, ...outcome.data, flash: { message: outcome.message, params: outcome.params } satisfies Notice } });
        return redirect303(ctx, `/interaction/${info.uid}`);
      case 'switch':
        await flows.saveData({ ...flow, data: { ...flow.data, ...outcome.data, choice: outcome.to } });
        return redirect303(ctx, `/interaction/${info.uid}`);
      case 'failed': {
        const returnTo = await interactions.abort(ctx.req, ctx.res, info.uid, 'access_denied', messageText(outcome.message));
        await flows.remove(info.uid);
        return redirect303(ctx, returnTo);
      }
    }
  });

  // After a notice (e.g. backup codes left), the user goes on to the app.
  router.post('/continue', formBody(), async (ctx) => {
    const info = await load(ctx);
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    const flow = await flows.find(info.uid);
    if (!flow) return redirect303(ctx, `/interaction/${info.uid}`);
    const state = toState(flow, info, ctx.ip);
    if (info.prompt !== 'login' || (await chain.next(state))) return redirect303(ctx, `/interaction/${info.uid}`);
    return complete(ctx, state, flow);
  });

  router.post('/consent', formBody(), async (ctx) => {
    const info = await load(ctx);
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    if (info.prompt !== 'consent') return redirect303(ctx, `/interaction/${info.uid}`);
    const returnTo = await interactions.finishConsent(ctx.req, ctx.res, info.uid);
    await deps.audit.record({ event: 'consent.granted', result: 'success', accountId: info.sessionAccountId, clientId: info.clientId, flowUid: info.uid, ip: ctx.ip });
    await flows.remove(info.uid);
    redirect303(ctx, returnTo);
  });

  router.post('/cancel', formBody(), async (ctx) => {
    const info = await load(ctx);
    checkCsrf(formOf(ctx), csrfFor(info.uid));
    const flow = await flows.find(info.uid);
    const returnTo = await interactions.abort(ctx.req, ctx.res, info.uid, 'access_denied', 'The user cancelled the sign-in.');
    await deps.audit.record({ event: 'login.cancelled', result: 'info', accountId: flow?.accountId ?? null, clientId: info.clientId, flowUid: info.uid, ip: ctx.ip });
    await flows.remove(info.uid);
    redirect303(ctx, returnTo);
  });

  return router;
}
