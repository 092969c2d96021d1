import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { relyingParty, type RelyingParty } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

export interface FuzzApp {
  t: TestApp;
  /** A relying party of a first-party client (no consent page). */
  rp: RelyingParty;
  /** One whose users see the consent page. */
  consentRp: RelyingParty;
  sms: RecordingSender;
  /** The Authorization header of the first-party client at the token endpoint. */
  basicAuth: string;
}

/**
 * Keystep as the fuzz properties drive it: SMS to a recording sender (or the development inbox at
 * /dev/sms with `devInbox`, or the HTTP gateway `gateway` describes), no resend cooldown and no
 * global SMS limit (every run, and every step of shrinking a failure, sends a code to a new
 * account), so deep states are reached quickly. With `metricsToken`, `/metrics` is served on the
 * main listener to that bearer token.
 */
export async function startFuzzApp(options: { devInbox?: boolean; gateway?: Record<string, unknown>; metricsToken?: string } = {}): Promise<FuzzApp> {
  const sms = new RecordingSender();
  const t = await startTestApp({
    smsSender: options.devInbox || options.gateway ? undefined : sms,
    overrides: {
      smsOtp: { resendCooldownSeconds: 0 },
      sms: { globalSendLimit: 10_000_000, ...(options.gateway ? { sender: 'http', gateway: options.gateway } : {}) },
      ...(options.metricsToken ? { metrics: { bearerToken: options.metricsToken } } : {}),
    },
  });
  const client = await t.addClient('web-app');
  const rp = await relyingParty(t, client);
  const consentRp = await relyingParty(t, await t.addClient('partner-app', { consent: true }));
  const basicAuth = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  return { t, rp, consentRp, sms, basicAuth };
}

/** A fuzz app for the enclosing describe: started before its tests, closed after them. */
export function useFuzzApp(options: Parameters<typeof startFuzzApp>[0] = {}): () => FuzzApp {
  let app: FuzzApp | undefined;
  beforeAll(async () => { app = await startFuzzApp(options); });
  afterAll(() => app?.t.close());
  return () => {
    if (!app) throw new Error('the fuzz app is not started yet');
    return app;
  };
}
