import { randomBytes, type KeyObject } from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import type { Context } from 'koa';
import { shownOnceSlot, type BackupCodeRenewal } from '../login/factors/backup-code/account.ts';
import { credentialId } from '../login/factors/passkey/webauthn.ts';
import { pendingPasskeySlot, type PasskeyEnrolment } from '../login/factors/passkey/account.ts';
import { pendingLinkSlot, type FederatedLinking } from '../login/factors/federated/account.ts';
import { allowFormTargets } from './security-headers.ts';
import { pendingNumberSlot, type PhoneChange } from '../login/factors/sms-otp/account.ts';
import { pendingSecretSlot, type TotpEnrolment } from '../login/factors/totp/account.ts';
import { readSlot, withSlot, type LoginFlow } from '../login/flow.ts';
import type { MessageCatalogue } from '../login/messages.ts';
import type { Account, FlowStore } from '../login/ports.ts';
import { recentlyAuthenticated } from '../login/sign-ins.ts';
import type { SessionReader, SignedInSession } from '../oidc/sessions.ts';
import { ACR_MFA, acrMeets } from '../shared/acr.ts';
import { addSeconds, type Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { maskPhone } from '../shared/phone.ts';
import { checkCsrf as checkFormCsrf, formBody, formOf, formToken } from './forms.ts';
import { authorizationResponseValid, ownConfiguration, signInRequest } from './own-client.ts';
import { languageOf } from './language.ts';
import { redirect303, sendPage, type Views } from './views.ts';
import { accountName } from '../shared/account-name.ts';

export const ACCOUNT_CLIENT_ID = 'keystep-account';

/** What the sign-in cookie keeps between the request and its answer (signed, but read as untrusted). */
const pendingSignIn = z.object({ state: z.string().max(128), next: z.string().max(64) });
const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const LOGIN_COOKIE = 'keystep_account_login';
const ACTION_COOKIE = 'keystep_account_action';
const NEXT_PAGES = new Set(['/account', '/account/phone', '/account/backup-codes/new', '/account/totp/new', '/account/totp/remove', '/account/passkeys']);

export interface AccountOverview {
  account(id: string): Promise<Account | undefined>;
  backupCodesLeft(accountId: string): Promise<number>;
  recentSignIns(accountId: string): Promise<{ at: Date; ip: string | null; succeeded: boolean; reason: string; factor: string | undefined; factorKey: string | undefined }[]>;
  /** Ends every session, grant, token and login in progress of the account, but the session `keepSessionUid` names. */
  signOutEverywhere(accountId: string, cause: 'sign-out-everywhere' | 'phone-changed', keepSessionUid?: string): Promise<void>;
}

interface Deps {
  issuer: string;
  sessions: SessionReader;
  /** The account-page halves of the factors: a new number, new backup codes, an authenticator app, passkeys. */
  phone: PhoneChange;
  backupCodes: BackupCodeRenewal;
  totp: TotpEnrolment;
  passkeys: PasskeyEnrolment;
  /** "Link your Acme SSO account": the upstream sign-in's account-page half. */
  federation: FederatedLinking;
  overview: AccountOverview;
  messages: MessageCatalogue;
  /** How recent the last full sign-in must be for a change. */
  reauthWindowSeconds: number;
  flows: FlowStore;
  views: Views;
  clock: Clock;
  /** Digits of a number left visible. */
  maskDigits: number;
  /** Keys the per-session anti-forgery token of the account forms. */
  csrfKey: KeyObject;
}

/**
 * `/account`: a signed-in user (a full login with the second factor) sees their number, authenticator
 * app, passkeys, backup codes and recent sign-ins, and can change the number, set up or remove the
 * app, add or remove passkeys, renew backup codes and sign out everywhere.
 * Changes need a sign-in with the second factor in the last 5 minutes.
 */
export function accountRoutes(deps: Deps): Router {
  const { views, flows, overview, messages } = deps;
  const router = new Router({ prefix: '/account' });
  // Keystep as its own relying party, from metadata it knows: made once.
  const own = ownConfiguration(deps.issuer, ACCOUNT_CLIENT_ID);

  // Per session, derived rather than stored: the same token for every account form of one sign-in.
  const csrfFor = (session: SignedInSession) => formToken(deps.csrfKey, 'account', session.uid);
  const checkCsrf = (ctx: Context, session: SignedInSession) => checkFormCsrf(formOf(ctx), csrfFor(session));

  /** Off to a sign-in with the second factor (fresh when `reauth`), then back to `next`. */
  function signIn(ctx: Context, next: string, reauth: boolean) {
    // The code is not redeemed: this page needs the sign-in session at Keystep, which it reads itself,
    // and redeeming would mean calling Keystep's own public address. So no ID token, no nonce, and the
    // verifier is not kept: the code expires unused, bound to a verifier no one has.
    const { url, state } = signInRequest(own, `${deps.issuer}/account/callback`, {
      scope: 'openid', acr_values: ACR_MFA, ...(reauth ? { prompt: 'login' } : {}),
    });
    ctx.cookies.set(LOGIN_COOKIE, JSON.stringify({ state, next }), { signed: true, httpOnly: true, sameSite: 'lax', path: '/account', maxAge: 600_000 });
    ctx.redirect(url.toString());
    if (ctx.method !== 'GET') ctx.status = 303;
  }

  async function signedIn(ctx: Context, next: string, options: { fresh?: boolean } = {}) {
    const session = await deps.sessions.current(ctx);
    if (!session || !acrMeets(session.acr, ACR_MFA)) return void signIn(ctx, next, false);
    if (options.fresh && !recentlyAuthenticated(session.loginTs, deps.reauthWindowSeconds)) {
      // A form posted too late goes back to its page, which asks for the fresh sign-in.
      if (ctx.method !== 'GET') return void redirect303(ctx, next);
      return void signIn(ctx, next, true);
    }
    const account = await overview.account(session.accountId);
    if (!account || account.disabled) return void signIn(ctx, next, true);
    return { session, account };
  }

  // Only a message code and one number travel in the URL; the text is looked up here.
  const note = (ctx: Context) => {
    const code = typeof ctx.query.m === 'string' && messages.has(ctx.query.m) ? ctx.query.m : undefined;
    const n = typeof ctx.query.n === 'string' && /^\d{1,4}$/.test(ctx.query.n) ? Number(ctx.query.n) : undefined;
    const params: Record<string, number> = n === undefined ? {} : { attempts: n, minutes: n, seconds: n, count: n };
    return code ? { message: messages.text(code, params, languageOf(ctx, messages.defaultLanguage)), messageKind: messages.kind(code) } : {};
  };
  const withNote = (path: string, { message, params }: { message: string; params?: Record<string, string | number> | undefined }) => {
    const n = params && Object.values(params).find((v) => typeof v === 'number');
    return `${path}?m=${message}${n === undefined ? '' : `&n=${n}`}`;
  };

  /** Keystep's own record of a change in progress (a pending number, codes to show once). */
  async function action(ctx: Context, session: SignedInSession, account: Account, create = false): Promise<{ flow: LoginFlow; change: { uid: string; clientId: string; ip: string; language: string; flow: LoginFlow } } | undefined> {
    let uid = ctx.cookies.get(ACTION_COOKIE, { signed: true });
    if (create || !uid) {
      uid = `acct_${randomBytes(18).toString('base64url')}`;
      ctx.cookies.set(ACTION_COOKIE, uid, { signed: true, httpOnly: true, sameSite: 'lax', path: '/account', maxAge: 600_000 });
      await flows.findOrCreate(uid, addSeconds(deps.clock.now(), 600));
    }
    const flow = await flows.find(uid);
    if (!flow) return undefined;
    if (flow.accountId && flow.accountId !== account.id) return undefined;
    return { flow, change: { uid, clientId: ACCOUNT_CLIENT_ID, ip: ctx.ip, language: languageOf(ctx, messages.defaultLanguage), flow: { ...flow, accountId: account.id } } };
  }

  router.get('/callback', async (ctx) => {
    const saved = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
    const parsed = saved ? pendingSignIn.safeParse(safeJson(saved)).data : undefined;
    // One answer per sign-in: a forged or wrong one uses the state up as well.
    ctx.cookies.set(LOGIN_COOKIE, null, { path: '/account' });
    const response = new URL(`${deps.issuer}/account/callback?${ctx.querystring}`);
    if (!parsed || !authorizationResponseValid(own, response, parsed.state)) {
      return redirect303(ctx, '/account/signed-out');
    }
    redirect303(ctx, NEXT_PAGES.has(parsed.next) ? parsed.next : '/account');
  });

  const minute = (at: Date) => at.toISOString().slice(0, 16).replace('T', ' ');
  async function totpStatus(accountId: string) {
    const status = await deps.totp.status(accountId);
    return status && { addedAt: minute(status.addedAt), lastUsedAt: status.lastUsedAt && minute(status.lastUsedAt) };
  }

  async function passkeyList(accountId: string) {
    return (await deps.passkeys.list(accountId)).map((p) => ({ id: p.id, name: p.name, synced: p.backedUp, addedAt: minute(p.createdAt), lastUsedAt: p.lastUsedAt && minute(p.lastUsedAt) }));
  }

  router.get('/', async (ctx) => {
    const who = await signedIn(ctx, '/account');
    if (!who) return;
    const { account, session } = who;
    const providers = await deps.federation.overview(account.id);
    // Each "Link" form leads the browser to its provider.
    allowFormTargets(ctx, providers.filter((p) => !p.linked).map((p) => p.issuer));
    sendPage(ctx, views, 'account', {
      providers,
      title: 'title.account', username: accountName(account), csrfToken: csrfFor(session), ...note(ctx),
      phone: account.phone ? maskPhone(account.phone, deps.maskDigits) : undefined, phoneVerifiedAt: account.phoneVerifiedAt?.toISOString().slice(0, 16).replace('T', ' '),
      // Its last use is noted when a login that used it is handed over.
      phoneLastUsedAt: ((used) => used && minute(used))(account.factors.find((f) => f.id === 'sms-otp')?.lastUsedAt ?? null),
      backupLeft: await overview.backupCodesLeft(account.id),
      totp: await totpStatus(account.id),
      passkeys: await passkeyList(account.id),
      events: (await overview.recentSignIns(account.id)).map((e) => ({ ...e, at: e.at.toISOString().slice(0, 19).replace('T', ' ') })),
    });
  });

  router.get('/phone', async (ctx) => {
    const who = await signedIn(ctx, '/account/phone', { fresh: true });
    if (!who) return;
    sendPage(ctx, views, 'factors/sms-otp/account-number', { title: 'sms.account.title', csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/phone', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/phone', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    // One change in progress at a time: a second number goes through the same resend rules.
    const current = (await action(ctx, who.session, who.account)) ?? (await action(ctx, who.session, who.account, true));
    if (!current) throw new AppError(400, 'LOGIN_EXPIRED');
    const result = await deps.phone.start(current.change, who.account, formOf(ctx).phone ?? '');
    if (!result.ok) return redirect303(ctx, withNote('/account/phone', deps.phone.notice(result)));
    await flows.save({ ...current.flow, accountId: who.account.id, data: withSlot(current.flow.data, 'sms-otp', { pendingPhone: result.phone }) });
    redirect303(ctx, '/account/phone/verify');
  });

  router.get('/phone/verify', async (ctx) => {
    const who = await signedIn(ctx, '/account/phone', { fresh: true });
    if (!who) return;
    const current = await action(ctx, who.session, who.account);
    const pending = current && readSlot(current.flow.data, 'sms-otp', pendingNumberSlot)?.pendingPhone;
    if (!pending) return redirect303(ctx, '/account/phone');
    sendPage(ctx, views, 'factors/sms-otp/account-code', { title: 'sms.verify.title', destination: maskPhone(pending, deps.maskDigits), csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/phone/verify', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/phone', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account);
    const pending = current && readSlot(current.flow.data, 'sms-otp', pendingNumberSlot)?.pendingPhone;
    if (!current || !pending) return redirect303(ctx, '/account/phone');
    // A new number is how a user shuts out whoever had the old one: everything but this browser ends
    // (this change's own record too), before the number is saved.
    const signOutOthers = () => overview.signOutEverywhere(who.account.id, 'phone-changed', who.session.uid);
    const result = await deps.phone.finish(current.change, who.account, pending, formOf(ctx).code ?? '', signOutOthers);
    // A number taken meanwhile: back to the number form, to type another.
    if (!result.ok) return redirect303(ctx, withNote(result.reason === 'taken' ? '/account/phone' : '/account/phone/verify', deps.phone.notice(result)));
    redirect303(ctx, withNote('/account', { message: 'PHONE_CHANGED' }));
  });

  router.get('/backup-codes/new', async (ctx) => {
    const who = await signedIn(ctx, '/account/backup-codes/new', { fresh: true });
    if (!who) return;
    sendPage(ctx, views, 'factors/backup-code/account-confirm', { title: 'backup-code.new.title', csrfToken: csrfFor(who.session) });
  });

  router.post('/backup-codes', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/backup-codes/new', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account, true);
    if (!current) throw new AppError(400, 'LOGIN_EXPIRED');
    const shown = await deps.backupCodes.renew(current.change, who.account.id);
    // Kept only so the page after the 303 can show them once: sealed with a key of its own, bound
    // to this change, and taken out when that page is shown.
    await flows.save({ ...current.flow, accountId: who.account.id, data: withSlot(current.flow.data, 'backup-code', shown) });
    redirect303(ctx, '/account/backup-codes');
  });

  router.get('/backup-codes', async (ctx) => {
    const who = await signedIn(ctx, '/account');
    if (!who) return;
    const current = await action(ctx, who.session, who.account);
    const shown = current && readSlot(current.flow.data, 'backup-code', shownOnceSlot);
    // Once only: taken out before the page is sent (a reload, or a return later, shows nothing).
    const gone = () => redirect303(ctx, withNote('/account', { message: 'BACKUP_CODES_GONE' }));
    if (!current || !shown || !(await flows.save({ ...current.flow, data: withSlot(current.flow.data, 'backup-code', null) }))) return gone();
    const codes = deps.backupCodes.open(current.change.uid, shown);
    if (!codes) return gone();
    sendPage(ctx, views, 'factors/backup-code/account-codes', { title: 'backup-code.shown.title', codes, csrfToken: csrfFor(who.session) });
  });

  router.post('/backup-codes/saved', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account');
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account);
    if (current) await flows.remove(current.change.uid);
    redirect303(ctx, '/account?m=BACKUP_CODES_SAVED');
  });

  router.get('/totp/new', async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/new', { fresh: true });
    if (!who) return;
    sendPage(ctx, views, 'factors/totp/account-start', { title: 'totp.start.title', replaces: (await deps.totp.status(who.account.id)) !== undefined, csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/totp/new', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/new', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account, true);
    if (!current) throw new AppError(400, 'LOGIN_EXPIRED');
    // The new secret waits sealed in this change's record: it counts only once a code from the app is entered.
    const pending = deps.totp.start(current.change, who.account);
    await flows.save({ ...current.flow, accountId: who.account.id, data: withSlot(current.flow.data, 'totp', pending) });
    redirect303(ctx, '/account/totp/confirm');
  });

  /** The change in progress with its pending secret, if there is one. */
  async function pendingTotp(ctx: Context, session: SignedInSession, account: Account) {
    const current = await action(ctx, session, account);
    const pending = current && readSlot(current.flow.data, 'totp', pendingSecretSlot);
    return current && pending ? { ...current, pending } : undefined;
  }
  const setupGone = (ctx: Context) => redirect303(ctx, withNote('/account/totp/new', { message: 'TOTP_SETUP_GONE' }));

  router.get('/totp/confirm', async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/new', { fresh: true });
    if (!who) return;
    const current = await pendingTotp(ctx, who.session, who.account);
    const shown = current && (await deps.totp.page(current.change, who.account, current.pending));
    if (!shown) return setupGone(ctx);
    sendPage(ctx, views, 'factors/totp/account-add', { title: 'totp.start.title', ...shown, csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/totp/confirm', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/new', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await pendingTotp(ctx, who.session, who.account);
    if (!current) return setupGone(ctx);
    const result = await deps.totp.confirm(current.change, who.account, current.pending, formOf(ctx).code ?? '');
    if (!result.ok) return redirect303(ctx, withNote(result.reason === 'gone' ? '/account/totp/new' : '/account/totp/confirm', deps.totp.notice(result)));
    // Set up: the secret is never shown again.
    await flows.remove(current.change.uid);
    redirect303(ctx, withNote('/account', { message: 'TOTP_ADDED' }));
  });

  router.get('/totp/remove', async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/remove', { fresh: true });
    if (!who) return;
    if (!(await deps.totp.status(who.account.id))) return redirect303(ctx, withNote('/account', { message: 'TOTP_NONE' }));
    sendPage(ctx, views, 'factors/totp/account-remove', { title: 'totp.remove.title', csrfToken: csrfFor(who.session) });
  });

  router.post('/totp/remove', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/totp/remove', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const removed = await deps.totp.remove({ clientId: ACCOUNT_CLIENT_ID, ip: ctx.ip, language: languageOf(ctx, messages.defaultLanguage) }, who.account);
    redirect303(ctx, withNote('/account', { message: removed === 'removed' ? 'TOTP_REMOVED' : removed === 'last' ? 'LAST_SECOND_FACTOR' : removed === 'busy' ? 'ACCOUNT_BUSY' : 'TOTP_NONE' }));
  });

  router.get('/passkeys', async (ctx) => {
    const who = await signedIn(ctx, '/account/passkeys', { fresh: true });
    if (!who) return;
    sendPage(ctx, views, 'factors/passkey/account-list', { title: 'passkey.list.title', passkeys: await passkeyList(who.account.id), csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/passkeys/new', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/passkeys', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const pending = deps.passkeys.start(formOf(ctx).name ?? '');
    if (!pending) return redirect303(ctx, withNote('/account/passkeys', { message: 'PASSKEY_NAME_MISSING' }));
    const current = await action(ctx, who.session, who.account, true);
    if (!current) throw new AppError(400, 'LOGIN_EXPIRED');
    await flows.save({ ...current.flow, accountId: who.account.id, data: withSlot(current.flow.data, 'passkey', pending) });
    redirect303(ctx, '/account/passkeys/add');
  });

  const passkeyGone = (ctx: Context) => redirect303(ctx, withNote('/account/passkeys', { message: 'PASSKEY_NOT_ADDED' }));

  router.get('/passkeys/add', async (ctx) => {
    const who = await signedIn(ctx, '/account/passkeys', { fresh: true });
    if (!who) return;
    const current = await action(ctx, who.session, who.account);
    const pending = current && readSlot(current.flow.data, 'passkey', pendingPasskeySlot);
    if (!pending) return passkeyGone(ctx);
    sendPage(ctx, views, 'factors/passkey/account-add', { title: 'passkey.add.title', name: pending.name, options: await deps.passkeys.options(who.account, pending), csrfToken: csrfFor(who.session), ...note(ctx) });
  });

  router.post('/passkeys/add', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/passkeys', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account);
    const pending = current && readSlot(current.flow.data, 'passkey', pendingPasskeySlot);
    // The challenge answers once: taken out (compare-and-set) before the answer is checked.
    if (!current || !pending || !(await flows.save({ ...current.flow, data: withSlot(current.flow.data, 'passkey', null) }))) return passkeyGone(ctx);
    const result = await deps.passkeys.finish(current.change, who.account, pending, formOf(ctx).response ?? '');
    if (!result.ok) return passkeyGone(ctx);
    redirect303(ctx, withNote('/account', { message: 'PASSKEY_ADDED' }));
  });

  router.post('/passkeys/remove', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account/passkeys', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    // Only a credential id reaches the store (anything else names no passkey).
    const id = credentialId.safeParse(formOf(ctx).id).data;
    const removed = id ? await deps.passkeys.remove({ clientId: ACCOUNT_CLIENT_ID, ip: ctx.ip, language: languageOf(ctx, messages.defaultLanguage) }, who.account, id) : 'none';
    redirect303(ctx, withNote('/account/passkeys', { message: removed === 'removed' ? 'PASSKEY_REMOVED' : removed === 'last' ? 'LAST_SECOND_FACTOR' : removed === 'busy' ? 'ACCOUNT_BUSY' : 'PASSKEY_NONE' }));
  });

  // "Link your Acme SSO account": after a fresh two-factor sign-in, off to the provider; its answer
  // comes back through the provider's fixed callback, which forwards a change's state here.
  router.post('/federation/link', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account', { fresh: true });
    if (!who) return;
    checkCsrf(ctx, who.session);
    const current = await action(ctx, who.session, who.account, true);
    if (!current) throw new AppError(400, 'LOGIN_EXPIRED');
    const started = await deps.federation.start(current.change.uid, formOf(ctx).provider ?? '');
    if (!started.ok) return redirect303(ctx, withNote('/account', { message: 'FEDERATION_LINK_FAILED' }));
    await flows.save({ ...current.flow, accountId: who.account.id, data: withSlot(current.flow.data, 'federated-link', started.slot) });
    redirect303(ctx, started.url);
  });

  router.get('/federation/return', async (ctx) => {
    const who = await signedIn(ctx, '/account', { fresh: true });
    if (!who) return;
    const current = await action(ctx, who.session, who.account);
    const pending = current && readSlot(current.flow.data, 'federated-link', pendingLinkSlot);
    // One answer per try: taken out (compare-and-set) before it is checked.
    if (!current || !pending || !(await flows.save({ ...current.flow, data: withSlot(current.flow.data, 'federated-link', null) }))) {
      return redirect303(ctx, withNote('/account', { message: 'FEDERATION_LINK_FAILED' }));
    }
    const params = Object.fromEntries(Object.entries(ctx.query).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
    const result = await deps.federation.finish({ uid: current.change.uid, ip: ctx.ip }, who.account, pending, params);
    const message = result.ok ? 'FEDERATION_LINKED' : result.reason === 'taken' ? 'FEDERATION_LINK_TAKEN' : 'FEDERATION_LINK_FAILED';
    redirect303(ctx, withNote('/account', { message }));
  });

  router.post('/sign-out-everywhere', formBody(), async (ctx) => {
    const who = await signedIn(ctx, '/account');
    if (!who) return;
    checkCsrf(ctx, who.session);
    await overview.signOutEverywhere(who.account.id, 'sign-out-everywhere');
    redirect303(ctx, '/account/signed-out?m=SIGNED_OUT_EVERYWHERE');
  });

  router.get('/signed-out', (ctx) => {
    sendPage(ctx, views, 'logout-success', { title: 'title.signed-out', ...note(ctx) });
  });

  return router;
}
