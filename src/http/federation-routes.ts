import Router from '@koa/router';
import { FEDERATED_ID } from '../login/factors/federated/factor.ts';
import { AppError } from '../shared/errors.ts';
import { redirect303 } from './views.ts';

const UID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * An account page's change uid: `acct_` and 18 random bytes in base64url (29 characters). The
 * provider's interaction uids are 43 characters of the same alphabet, so one may begin `acct_` too:
 * the length tells them apart.
 */
const ACCOUNT_CHANGE = /^acct_[A-Za-z0-9_-]{24}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The fixed callback of each upstream provider. It decides nothing: the state names the login, and
 * the browser goes on to that login's own address, where its interaction cookie (path-scoped there)
 * must open it and the factor checks the state's secret part against its slot. A callback with no
 * usable state is a clear page, never a redirect to a place the query chose. The account page's
 * "link your account" comes back the same way, to its own address.
 */
export function federationRoutes(): Router {
  const router = new Router();
  router.get('/federation/:name/callback', (ctx) => {
    const name = ctx.params.name ?? '';
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const uid = state.split('.')[0] ?? '';
    if (!NAME.test(name) || !UID.test(uid)) throw new AppError(400, 'LOGIN_EXPIRED');
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(ctx.query)) if (typeof value === 'string') query.set(key, value);
    query.set('via', name);
    // A state of the account page's "link your account" names its change, not a login.
    if (ACCOUNT_CHANGE.test(uid)) return redirect303(ctx, `/account/federation/return?${query}`);
    redirect303(ctx, `/interaction/${uid}/return/${FEDERATED_ID}?${query}`);
  });
  return router;
}
