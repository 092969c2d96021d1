import type { AuditEvent } from './ports.ts';

/**
 * Whether the last full sign-in (with the second factor) is recent enough for a change on the
 * account page. The sign-in time comes from the provider's session, on the provider's (real)
 * clock, so it is compared to that.
 */
/** How recent the last full sign-in must be for a change on the account page, or for a step-up to skip the first stage. */
export const REAUTH_WINDOW_SECONDS = 5 * 60;

export function recentlyAuthenticated(loginTs: number | undefined, windowSeconds: number, nowSeconds = Date.now() / 1000): boolean {
  return loginTs !== undefined && nowSeconds - loginTs <= windowSeconds;
}


// Each factor's audit event, named as the page shows it.
const signInSteps: Record<string, string> = { 'login.password': 'password', 'login.sms_otp': 'SMS code', 'login.backup_code': 'backup code', 'login.locked': 'password' };

/** The account page's "recent sign-ins": completed logins with their factors, and failed steps. */
export function describeSignIns(events: (AuditEvent & { at: Date })[], limit = 10) {
  return events
    .filter((e) => e.event === 'login.completed' || (e.result === 'failure' && Object.hasOwn(signInSteps, e.event)))
    .slice(0, limit)
    .map((e) => ({
      at: e.at,
      ip: e.ip ?? null,
      result: e.result === 'success' ? 'signed in' : `failed (${e.reason ?? 'refused'})`,
      factor: e.event === 'login.completed'
        ? ((e.detail?.amr as string[] | undefined) ?? []).filter((v) => v !== 'mfa').join(' + ')
        : signInSteps[e.event] ?? e.event,
    }));
}
