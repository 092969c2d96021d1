import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { formAction, hiddenValue } from '../support/browser.ts';
import { pageOf, relyingParty, startLogin, submitPassword } from '../support/rp.ts';

describe('custom pages (viewsDir)', () => {
  it('serves the pages and the stylesheet from the operator\'s copy of views/', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'keystep-views-')), 'views');
    cpSync('views', dir, { recursive: true });
    const password = path.join(dir, 'factors', 'password', 'password.pug');
    writeFileSync(password, readFileSync(password, 'utf8').replace('block content', 'block content\n  p.brand Welcome to Acme'));
    writeFileSync(path.join(dir, 'static', 'keystep.css'), 'body { color: rebeccapurple; }');
    const t = await startTestApp({ overrides: { viewsDir: dir } });
    try {
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const page = pageOf((await startLogin(rp)).visit);
      expect(page.html).toContain('<p class="brand">Welcome to Acme</p>');
      expect(page.html).toContain('autocomplete="current-password"');
      expect(await (await fetch(`${t.issuer}/static/keystep.css`)).text()).toBe('body { color: rebeccapurple; }');
    } finally {
      await t.close();
    }
  });

  it('a copy of views/ from before the form_post page still hands the sign-in to the app, on the provider\'s page', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'keystep-views-')), 'views');
    cpSync('views', dir, { recursive: true });
    rmSync(path.join(dir, 'form-post.pug'));
    const t = await startTestApp({ overrides: { viewsDir: dir, smsOtp: { mandatory: false } } });
    try {
      await t.addUser('alice', 'alices-long-password');
      const rp = await relyingParty(t, await t.addClient('web-app'));
      const attempt = await startLogin(rp, { response_mode: 'form_post' });
      const page = pageOf(await submitPassword(attempt.browser, pageOf(attempt.visit), 'alice', 'alices-long-password'));
      expect(page.status).toBe(200);
      expect(formAction(page.html)).toBe(rp.redirectUri);
      expect(hiddenValue(page.html, 'state')).toBe(attempt.state);
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    } finally {
      await t.close();
    }
  });
});
