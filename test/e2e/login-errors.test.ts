import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText, formAction, hiddenValue } from '../support/browser.ts';
import { countingHasher } from '../support/bursts.ts';
import { callbackOf, pageOf, relyingParty, startLogin, submitPassword, type RelyingParty } from '../support/rp.ts';

describe('login pages under bad input', () => {
  let t: TestApp;
  let rp: RelyingParty;
  const hasher = countingHasher();

  beforeAll(async () => {
    t = await startTestApp({ hasher, overrides: { password: { throttleAfter: 100, lockAfter: 3, lockSeconds: 600 }, smsOtp: { mandatory: false } } });
    await t.addUser('bob', 'bobs-long-password');
    await t.addUser('carol', 'carols-long-password');
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  async function loginPage() {
    const attempt = await startLogin(rp);
    return { attempt, page: pageOf(attempt.visit) };
  }

  it('gives the same page and the same hashing work for an unknown user and a wrong password', async () => {
    const { attempt, page } = await loginPage();
    const before = hasher.checked;
    const wrong = pageOf(await submitPassword(attempt.browser, page, 'bob', 'not-the-password'));
    const afterWrong = hasher.checked;
    const unknown = pageOf(await submitPassword(attempt.browser, wrong, 'nobody-here', 'not-the-password'));
    expect(afterWrong - before).toBe(1);
    expect(hasher.checked - afterWrong).toBe(1);
    expect(wrong.status).toBe(200);
    expect(unknown.status).toBe(wrong.status);
    expect(alertText(wrong.html)).toBe('The username or password is incorrect.');
    expect(alertText(unknown.html)).toBe(alertText(wrong.html));
    // The message is shown once; a reload shows the plain form.
    const reload = pageOf(await attempt.browser.visit(unknown.url));
    expect(alertText(reload.html)).toBeUndefined();
    await t.database.db.deleteFrom('password_failures').execute();
  });

  it('asks for both fields when one is missing', async () => {
    const { attempt, page } = await loginPage();
    const result = pageOf(await submitPassword(attempt.browser, page, 'bob', ''));
    expect(alertText(result.html)).toBe('Enter your username and password.');
  });

  it('locks an account after repeated wrong passwords, says so, and unlocks', async () => {
    const { attempt, page } = await loginPage();
    let current = page;
    for (let i = 0; i < 2; i++) current = pageOf(await submitPassword(attempt.browser, current, 'carol', `wrong-password-${i}`));
    const locked = pageOf(await submitPassword(attempt.browser, current, 'carol', 'wrong-password-2'));
    expect(alertText(locked.html)).toMatch(/locked/);
    // Even the right password is refused while locked, without a hash being computed.
    const before = hasher.checked;
    const stillLocked = pageOf(await submitPassword(attempt.browser, locked, 'carol', 'carols-long-password'));
    expect(alertText(stillLocked.html)).toMatch(/locked/);
    expect(hasher.checked).toBe(before);
    const events = await t.database.db.selectFrom('auth_events').select(['event', 'reason']).where('event', '=', 'login.locked').execute();
    expect(events).toHaveLength(1);

    await t.database.db.deleteFrom('password_failures').execute(); // what `keystep user unlock` does
    const ok = await submitPassword(attempt.browser, stillLocked, 'carol', 'carols-long-password');
    expect(callbackOf(ok)).toContain('code=');
  });

  it('ends the login with access_denied when the user cancels', async () => {
    const { attempt, page } = await loginPage();
    const result = await attempt.browser.submit(new URL(formAction(page.html, 1), page.url).toString(), { _csrf: hiddenValue(page.html, '_csrf') });
    const callback = new URL(callbackOf(result));
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(attempt.state);
  });

  it('refuses a POST without or with a wrong CSRF token (403)', async () => {
    const { attempt, page } = await loginPage();
    const action = new URL(formAction(page.html), page.url).toString();
    for (const csrf of [undefined, 'wrong-token']) {
      const form: Record<string, string> = { step: 'password', username: 'bob', password: 'bobs-long-password' };
      if (csrf) form._csrf = csrf;
      const result = await attempt.browser.submit(action, form);
      expect(result.postStatus).toBe(403);
      expect(alertText(result.page!.html)).toMatch(/expired/);
    }
  });

  it('shows a friendly page for an unknown, tampered or cookie-less interaction', async () => {
    const { attempt, page } = await loginPage();
    const unknown = pageOf(await attempt.browser.visit(`${t.issuer}/interaction/not-a-real-uid`));
    expect(unknown.status).toBe(400);
    expect(alertText(unknown.html)).toMatch(/start again/);
    const fresh = await startLogin(rp); // a browser with no cookies
    const noCookie = await fresh.browser.request(page.url);
    expect(noCookie.status).toBe(400);
    const badUid = pageOf(await attempt.browser.visit(`${t.issuer}/interaction/${'%00'.repeat(3)}`));
    expect(badUid.status).toBe(400);
  });

  it('refuses an expired interaction with the start-again page', async () => {
    const { attempt, page } = await loginPage();
    await t.database.db.updateTable('oidc_payloads').set({ expires_at: new Date(Date.now() - 1000) }).where('model', '=', 'Interaction').execute();
    const result = await submitPassword(attempt.browser, page, 'bob', 'bobs-long-password');
    expect(result.postStatus).toBe(400);
    expect(alertText(result.page!.html)).toMatch(/start again/);
  });

  it('answers bad bodies with a 4xx page, never a 500', async () => {
    const { attempt, page } = await loginPage();
    const action = new URL(formAction(page.html), page.url).toString();
    const csrf = hiddenValue(page.html, '_csrf');
    const post = (body: string | Uint8Array<ArrayBuffer>, contentType?: string) => attempt.browser.request(action, { method: 'POST', body, contentType });

    const huge = await post(`_csrf=${csrf}&step=password&username=bob&password=${'x'.repeat(100_000)}`, 'application/x-www-form-urlencoded');
    expect(huge.status).toBe(413);
    const nul = await post(`_csrf=${csrf}&step=password&username=bo%00b&password=x`, 'application/x-www-form-urlencoded');
    expect(nul.status).toBe(400);
    expect(await nul.text()).toMatch(/could not be read/);
    const json = await post(JSON.stringify({ _csrf: csrf, username: 'bob' }), 'application/json');
    expect(json.status).toBe(415);
    const none = await post('');
    expect(none.status).toBe(415);
    const nested = await post(`_csrf=${csrf}&step=password&username[a]=b&password=x`, 'application/x-www-form-urlencoded');
    expect(nested.status).toBe(400);
    const repeated = await post(`_csrf=${csrf}&step=password&username=a&username=b&password=x`, 'application/x-www-form-urlencoded');
    expect(repeated.status).toBe(400);
    const badUtf8 = await post(new Uint8Array(Buffer.concat([Buffer.from(`_csrf=${csrf}&step=password&username=`), Buffer.from([0xff, 0xfe]), Buffer.from('&password=x')])), 'application/x-www-form-urlencoded');
    expect(badUtf8.status).toBeLessThan(500);
    const gzip = await attempt.browser.request(action, { method: 'POST', body: 'not gzip at all', contentType: 'application/x-www-form-urlencoded', headers: { 'content-encoding': 'gzip' } });
    expect(gzip.status).toBe(415);
    const missing = await post(`_csrf=${csrf}&step=password`, 'application/x-www-form-urlencoded');
    expect(missing.status).toBe(303);
    const after = pageOf(await attempt.browser.visit(missing.headers.get('location')!.startsWith('http') ? missing.headers.get('location')! : new URL(missing.headers.get('location')!, t.issuer).toString()));
    expect(alertText(after.html)).toBe('Enter your username and password.');
  });

  it('survives NUL bytes in authorization parameters, client ids and codes', async () => {
    // Stored verbatim (json, not jsonb): the login goes on and the app gets its code.
    const attempt = await startLogin(rp, { nonce: 'a\u0000b', login_hint: 'x\u0000y' });
    expect(callbackOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'bob', 'bobs-long-password'))).toContain('code=');
    await t.database.db.deleteFrom('password_failures').execute();
    const auth = await fetch(`${t.issuer}/auth?client_id=a%00b&response_type=code&scope=openid&redirect_uri=x`, { redirect: 'manual' });
    expect(auth.status).toBe(400);
    const basic = `Basic ${Buffer.from('web-app:web-app-secret-0123456789abcdef').toString('base64')}`;
    for (const body of ['grant_type=authorization_code&code=a%00b&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&code_verifier=' + 'v'.repeat(43), 'grant_type=refresh_token&refresh_token=a%00b']) {
      const token = await fetch(`${t.issuer}/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(token.status).toBe(400);
      expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
    }
    const nulClient = await fetch(`${t.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x&client_id=a%00b' });
    expect(nulClient.status).toBeGreaterThanOrEqual(400);
    expect(nulClient.status).toBeLessThan(500);
  });

  it('answers a 256-character username that ends in an emoji like any wrong username, not with a 500', async () => {
    const { attempt, page } = await loginPage();
    const username = `${'a'.repeat(255)}\u{1F600}`;
    const answer = pageOf(await submitPassword(attempt.browser, page, username, 'some-password'));
    expect(answer.status).toBe(200);
    expect(alertText(answer.html)).toBe('The username or password is incorrect.');
    // It is kept for the form cut at 256 characters, whole ones: the emoji is not split.
    expect(answer.html).toContain(`value="${'a'.repeat(255)}\u{1F600}"`);
  });

  it('writes no row for a login page that is only looked at; the first form posted creates it', async () => {
    const rows = async () => Number((await t.database.db.selectFrom('login_flows').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await rows();
    const { attempt, page } = await loginPage();
    await attempt.browser.visit(page.url);
    expect(await rows()).toBe(before);
    await submitPassword(attempt.browser, page, 'bob', 'a-wrong-password');
    expect(await rows()).toBe(before + 1);
  });

  it('answers unknown paths with a 404 page', async () => {
    const res = await fetch(`${t.issuer}/no/such/page`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('There is nothing at this address.');
  });

  it('throttles an unknown username exactly like a real one', async () => {
    const quick = await startTestApp({ overrides: { password: { throttleAfter: 2, lockAfter: 50 }, smsOtp: { mandatory: false } } });
    try {
      await quick.addUser('bob', 'bobs-long-password');
      const quickRp = await relyingParty(quick, await quick.addClient('web-app'));
      const messages = async (username: string) => {
        const attempt = await startLogin(quickRp);
        let page = pageOf(attempt.visit);
        const out: (string | undefined)[] = [];
        for (let i = 0; i < 3; i++) {
          page = pageOf(await submitPassword(attempt.browser, page, username, 'wrong-password'));
          out.push(alertText(page.html));
        }
        return out;
      };
      const real = await messages('bob');
      expect(real[2]).toMatch(/Wait \d+ seconds?,/);
      expect(await messages('ghost')).toEqual(real);
    } finally {
      await quick.close();
    }
  });

  it('never logged a password', async () => {
    // Lines of its own, from the paths that hold the password when they fail: a run of this test alone inspects something.
    const db = t.database.db;
    const from = t.logLines.length;
    // Real database faults where the step holds the password: counting a wrong try, and recording a right one.
    await sql`create function refuse_write() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(db);
    const failed: number[] = [];
    try {
      await sql`create trigger refuse_write before insert or update on password_failures for each row execute function refuse_write()`.execute(db);
      const wrong = await loginPage();
      failed.push((await submitPassword(wrong.attempt.browser, wrong.page, 'carol', 'carols-wrong-password')).postStatus);
      await sql`drop trigger refuse_write on password_failures`.execute(db);
      await sql`create trigger refuse_write before insert on auth_events for each row execute function refuse_write()`.execute(db);
      const right = await loginPage();
      failed.push((await submitPassword(right.attempt.browser, right.page, 'carol', 'carols-long-password')).postStatus);
    } finally {
      await sql`drop function refuse_write() cascade`.execute(db);
    }
    expect(failed).toEqual([500, 500]);
    const lines = t.logLines.slice(from);
    // Each failure was logged, with its error: there is something to inspect.
    expect(lines.filter((l) => l.includes('"level":50') && l.includes('disk full'))).toHaveLength(2);
    for (const secret of ['carols-wrong-password', 'carols-long-password']) expect(lines.join('\n')).not.toContain(secret);
  });
});
