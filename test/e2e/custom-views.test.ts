import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.ts';
import { pageOf, relyingParty, startLogin } from '../support/rp.ts';

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
});
