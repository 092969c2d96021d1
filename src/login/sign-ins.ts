import type { AuditEvent } from './ports.ts';

/** How recent the last full sign-in must be for a change on the account page, or for a step-up to skip the first stage. */
export const REAUTH_WINDOW_SECONDS = 5 * 60;

/**
 * Whether a sign-in is recent enough (a change on the account page, a step-up). The sign-in time
 * comes from the provider's session, on the provider's (real) clock, so it is compared to that.
 */
export function recentlyAuthenticated(loginTs: number | undefined, windowSeconds: number, nowSeconds = Date.now() / 1000): boolean {
  return loginTs !== undefined && nowSeconds - loginTs <= windowSeconds;
}


/** Each factor's audit event of a sign-in try, and the text key the page names it by (from the factor modules' `signInEvent`). */
export type SignInEvents = Readonly<Record<string, string>>;

export function signInEvents(modules: readonly { signInEvent?: { event: string; label: string } }[]): SignInEvents {
  // A password lock is recorded by the password step under an event of its own.
  return Object.fromEntries([...modules.flatMap((m) => (m.signInEvent ? [[m.signInEvent.event, m.signInEvent.label]] : [])), ['login.locked', 'password.name']]);
}

/**
 * The account page's "recent sign-ins": completed logins with their factors (amr values), and failed
 * steps with the reason code and the text key of the factor's name (`factorKey`), which the page
 * writes in its language.
 */
export function describeSignIns(events: (AuditEvent & { at: Date })[], signInSteps: SignInEvents, limit = 10) {
  return events
    .filter((e) => e.event === 'login.completed' || (e.result === 'failure' && Object.hasOwn(signInSteps, e.event)))
    .slice(0, limit)
    .map((e) => ({
      at: e.at,
      ip: e.ip ?? null,
      succeeded: e.result === 'success',
      reason: e.reason ?? 'refused',
      factor: e.event === 'login.completed' ? ((e.detail?.amr as string[] | undefined) ?? []).filter((v) => v !== 'mfa').join(' + ') : undefined,
      factorKey: e.event === 'login.completed' ? undefined : signInSteps[e.event] ?? e.event,
    }));
}
