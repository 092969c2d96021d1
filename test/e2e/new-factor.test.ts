import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factor, FactorModule } from '../../src/login/factor.ts';
import { backupCodeModule } from '../../src/login/factors/backup-code/factor.ts';
import { passwordModule } from '../../src/login/factors/password/factor.ts';
import { issueBackupCodes } from '../../src/login/factors/backup-code/codes.ts';
import type { FactorDeps } from '../../src/login/registry.ts';
import { backupCodeRepository } from '../../src/repositories/backup-codes.ts';
import { cryptoRandom } from '../../src/shared/random.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { alertText } from '../support/browser.ts';
import { callbackOf, exchange, pageOf, relyingParty, submitStep, toSecondStep, type RelyingParty } from '../support/rp.ts';

// A second factor that exists only in this file: a code "emailed" to an outbox the test reads. It
// proves that a factor is one module plus its entry in a list: the chain runs it, offers the
// backup code beside it, and switches back to it, with no change to Keystep's own code.
const outbox = new Map<string, string>();

const emailCode: FactorModule<FactorDeps> = {
  id: 'email-code',
  messages: { EMAIL_CODE_WRONG: 'That emailed code is not right.' },
  build: ({ accounts }): Factor => ({
    id: 'email-code',
    stage: 'second',
    amr: ['otp'],
    actions: ['verify'],
    offer: { action: 'email', label: 'Email me a code instead' },
    enrolled: (account) => account.username.startsWith('e'),
    async show(ctx) {
      if (!outbox.has(ctx.uid)) outbox.set(ctx.uid, String(100000 + outbox.size));
      return { view: 'factors/email-code/code', model: {} };
    },
    async submit(ctx, form) {
      const account = await ctx.account();
      if (form.code !== outbox.get(ctx.uid)) return { kind: 'retry', message: 'EMAIL_CODE_WRONG' };
      return { kind: 'passed', account: (await accounts.findById(account.id))! };
    },
  }),
};

describe('a factor defined outside Keystep\'s code', () => {
  let t: TestApp;
  let rp: RelyingParty;

  beforeAll(async () => {
    // Its page, in a copy of the views, as an operator would add one.
    const views = path.join(mkdtempSync(path.join(tmpdir(), 'keystep-views-')), 'views');
    cpSync('views', views, { recursive: true });
    mkdirSync(path.join(views, 'factors', 'email-code'));
    writeFileSync(path.join(views, 'factors', 'email-code', 'code.pug'), [
      'extends ../../layout.pug', 'include ../../mixins.pug', 'block content',
      '  +message(message, messageKind)',
      '  form(method="post" action=`/interaction/${uid}`)',
      '    +csrf(csrfToken)',
      '    input(type="hidden" name="step" value=step)',
      '    input(name="code" autocomplete="one-time-code")',
      '    button(type="submit" name="action" value="verify") Continue',
      '  +alternatives(uid, csrfToken, step, alternatives)',
    ].join('\n'));
    t = await startTestApp({ factorModules: [passwordModule, emailCode, backupCodeModule], overrides: { viewsDir: views } });
    const id = await t.addUser('eve', 'eves-long-password');
    await issueBackupCodes(backupCodeRepository(t.database.db), t.hasher, cryptoRandom, id);
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(() => t.close());

  it('signs in through it, with the backup code offered beside it and a way back to it', async () => {
    const { attempt, next } = await toSecondStep(rp, 'eve', 'eves-long-password');
    const emailPage = pageOf(next);
    expect(emailPage.html).toContain('name="step" value="email-code"');
    expect(emailPage.html).toContain('Use a backup code instead');

    const backupPage = pageOf(await submitStep(attempt.browser, emailPage, 'email-code', { action: 'backup' }));
    expect(backupPage.html).toContain('name="step" value="backup-code"');
    expect(backupPage.html).toContain('Email me a code instead');

    const back = pageOf(await submitStep(attempt.browser, backupPage, 'backup-code', { action: 'email' }));
    expect(back.html).toContain('name="step" value="email-code"');
    const uid = new URL(back.url).pathname.split('/')[2]!;
    const wrong = pageOf(await submitStep(attempt.browser, back, 'email-code', { action: 'verify', code: 'nope' }));
    // Its own message, from its own catalogue.
    expect(alertText(wrong.html)).toBe('That emailed code is not right.');

    const done = await submitStep(attempt.browser, wrong, 'email-code', { action: 'verify', code: outbox.get(uid)! });
    const claims = (await exchange(rp, attempt, callbackOf(done))).claims()!;
    expect(claims.acr).toBe('urn:keystep:acr:mfa');
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
  });
});
