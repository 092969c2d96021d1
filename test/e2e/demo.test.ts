import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID } from '../../src/demo-data.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, Browser } from '../support/browser.ts';
import { callbackOf, pageOf, submitPassword, submitStep } from '../support/rp.ts';
import { RecordingSender } from '../support/sms.ts';

const PHONE = '+447400343434';

describe('the demo app (Keystep\'s own relying party for trying it out)', () => {
  let t: TestApp;
  const sms = new RecordingSender();
  let dana: string;

  beforeAll(async () => {
    t = await startTestApp({ smsSender: sms, overrides: { demo: true } });
    await t.addClient(DEMO_CLIENT_ID, { publicClient: true, redirectUris: [`${t.issuer}/demo/callback`] });
    dana = await t.addUser('dana', 'danas-long-password', PHONE);
  });
  afterAll(() => t.close());

  /** The authorization request the demo sends a browser off with. */
  async function started(query = '') {
    const browser = new Browser(`${t.issuer}/demo/callback`);
    const away = await browser.request(`${t.issuer}/demo/login${query}`);
    expect(away.status).toBe(302);
    return { browser, auth: new URL(away.headers.get('location')!) };
  }

  /** A whole sign-in, up to Keystep's answer (the callback's URL), not yet given to the demo. */
  async function answered() {
    const { browser, auth } = await started();
    const codePage = pageOf(await submitPassword(browser, pageOf(await browser.visit(auth.toString())), 'dana', 'danas-long-password'));
    return { browser, auth, answer: new URL(callbackOf(await submitStep(browser, codePage, 'sms-otp', { code: sms.lastCode(PHONE) }))) };
  }

  /** The demo's page for an answer, in a browser. */
  async function finish(browser: Browser, answer: URL) {
    const response = await browser.request(answer.toString());
    return { status: response.status, html: await response.text() };
  }

  /** The answer, but for a browser that started a sign-in of its own (its state), changed by `changes`. */
  function answerFor(answer: URL, auth: URL, changes: Record<string, string> = {}) {
    const url = new URL(answer);
    url.searchParams.set('state', auth.searchParams.get('state')!);
    for (const [name, value] of Object.entries(changes)) url.searchParams.set(name, value);
    return url;
  }

  it('signs in with code + PKCE, state and nonce, and shows the ID token\'s claims but no token', async () => {
    const { auth } = await started();
    expect(auth.origin + auth.pathname).toBe(`${t.issuer}/auth`);
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({
      client_id: DEMO_CLIENT_ID, response_type: 'code', scope: 'openid profile phone', redirect_uri: `${t.issuer}/demo/callback`,
      code_challenge_method: 'S256', code_challenge: expect.stringMatching(/^[\w-]{43}$/), state: expect.any(String), nonce: expect.any(String),
    });
    expect(auth.searchParams.has('acr_values')).toBe(false);
    expect((await started('?mfa=1')).auth.searchParams.get('acr_values')).toBe('urn:keystep:acr:mfa');

    const { browser, auth: sent, answer } = await answered();
    expect(answer.searchParams.get('iss')).toBe(t.issuer);
    const page = await finish(browser, answer);
    expect(page.status).toBe(200);
    expect(alertText(page.html)).toBe('Signed in. The ID token says:');
    const claims = JSON.parse(/<pre>([^<]*)<\/pre>/.exec(page.html)![1]!.replace(/&quot;/g, '"')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: dana, iss: t.issuer, aud: DEMO_CLIENT_ID, acr: 'urn:keystep:acr:mfa', amr: ['pwd', 'sms', 'mfa'] });
    expect(claims.nonce).toBe(sent.searchParams.get('nonce'));
    expect(page.html).not.toMatch(/eyJ/);
    // One answer per sign-in: the same one again is not this browser's any more.
    expect(alertText((await finish(browser, answer)).html)).toBe('The sign-in response did not match this browser. Start again.');
  });

  it('refuses an answer with a wrong state or issuer, shows an error answer, and reports a failed token request', async () => {
    const real = await answered();
    // Another browser's own state, with the real code: only the named parameter is wrong.
    for (const [name, value] of [['state', 'another-state'], ['iss', 'https://id.example.com']] as const) {
      const { browser, auth } = await started();
      const page = await finish(browser, answerFor(real.answer, auth, { [name]: value }));
      expect(page.status, name).toBe(400);
      expect(alertText(page.html)).toMatch(new RegExp(`did not pass its checks \\(.*"${name}".*\\)`));
    }
    const { browser, auth } = await started();
    const denied = await finish(browser, answerFor(new URL(`${t.issuer}/demo/callback?error=access_denied&error_description=no&iss=${encodeURIComponent(t.issuer)}`), auth));
    expect(alertText(denied.html)).toBe('Keystep answered access_denied: no');

    // A code that is not this browser's login (its verifier does not match) fails at the token request.
    const other = await started();
    expect(alertText((await finish(other.browser, answerFor(real.answer, other.auth))).html)).toBe('The token request failed: invalid_grant');

    const stranger = await finish(new Browser('never:'), real.answer);
    expect(stranger.status).toBe(400);
    expect(alertText(stranger.html)).toBe('The sign-in response did not match this browser. Start again.');
  });
});
