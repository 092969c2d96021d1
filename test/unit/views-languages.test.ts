import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createViews, viewsDir } from '../../src/http/views.ts';
import { allTexts, htmlLang, untranslated, visibleText } from '../support/texts.ts';

// A model for each page, with every branch that writes text switched on somewhere.
const base = { uid: 'uid-1', csrfToken: 'token', step: 'sms-otp', clientName: 'Example App', alternatives: [{ action: 'backup', label: 'backup-code.offer' }, { action: 'totp', label: 'totp.offer' }] };
type Model = Record<string, unknown> | ((language: string) => Record<string, unknown>);
const models: Record<string, Model[]> = {
  account: [
    { title: 'title.account', username: 'fay', phone: '+44 •••• ••23 23', phoneVerifiedAt: '2026-03-01 09:00', phoneLastUsedAt: '2026-03-02 10:00', backupLeft: 1, totp: { addedAt: '2026-03-01 09:00', lastUsedAt: null }, passkeys: [{ name: 'Laptop', addedAt: '2026-03-01 09:00', lastUsedAt: null }], providers: [{ name: 'acme', displayName: 'Acme SSO', linked: true }, { name: 'corp', displayName: 'Corp', linked: false }], events: [{ at: '2026-03-01 09:00:00', ip: '192.0.2.1', succeeded: true, factor: 'pwd + sms' }, { at: '2026-03-01 09:00:00', ip: null, succeeded: false, reason: 'wrong_code', factorKey: 'sms.name' }] },
    { title: 'title.account', username: 'fay', backupLeft: 4, totp: undefined, passkeys: [], events: [] },
  ],
  consent: [{ ...base, title: 'title.allow-access', scopes: [{ name: 'openid', key: 'consent.scope.openid' }, { name: 'profile', key: 'consent.scope.profile' }, { name: 'urn:x', key: 'consent.scope.other' }] }],
  'continue-session': [{ ...base, title: 'title.sign-in', username: 'fay' }, { ...base, clientName: undefined, title: 'title.sign-in', username: 'fay' }],
  demo: [{ title: 'title.demo' }, { title: 'title.demo', claims: '{}', error: 'demo.mismatch' }],
  'dev-sms': [{ title: 'title.dev-sms', messages: [] }, { title: 'title.dev-sms', messages: [{ at: new Date(0), to: '+447400000000', text: '123456' }] }],
  // The route writes the message in the request's language.
  error: [(language) => ({ title: 'error.title.404', message: allTexts.text('NOT_FOUND', {}, language), code: 'NOT_FOUND' })],
  'form-post': [{ title: 'title.continuing', action: 'https://app.example/callback', fields: [{ name: 'code', value: 'abc' }] }],
  'logout-success': [{ title: 'title.signed-out' }],
  logout: [{ title: 'title.sign-out', action: '/session/end/confirm', xsrf: 'x' }],
  notice: [{ ...base, title: 'title.signed-in' }],
  'second-factor-unavailable': [{ ...base, title: 'title.sign-in' }],
  'factors/backup-code/account-codes': [{ title: 'backup-code.shown.title', codes: ['ABCDE-FGHJK'], csrfToken: 'token' }],
  'factors/backup-code/account-confirm': [{ title: 'backup-code.new.title', csrfToken: 'token' }],
  'factors/backup-code/code': [{ ...base, title: 'title.sign-in' }],
  'factors/federated/choose': [{ ...base, title: 'title.sign-in', step: 'password', alternatives: [{ action: 'idp:acme', label: 'federated.offer', labelParams: { provider: 'Acme SSO' } }] }],
  'factors/passkey/account-add': [{ title: 'passkey.add.title', name: 'Laptop', options: '{}', csrfToken: 'token' }],
  'factors/passkey/account-list': [{ title: 'passkey.list.title', csrfToken: 'token', passkeys: [{ id: 'a', name: 'Laptop', synced: true, addedAt: '2026-03-01 09:00', lastUsedAt: '2026-03-02 09:00' }] }, { title: 'passkey.list.title', csrfToken: 'token', passkeys: [] }],
  'factors/passkey/sign-in': [{ ...base, title: 'title.sign-in', options: '{}' }],
  'factors/passkey/start': [{ ...base, title: 'title.sign-in' }],
  'factors/password/password': [{ ...base, title: 'title.sign-in', step: 'password' }],
  'factors/phone-capture/number': [{ ...base, title: 'title.sign-in', countryHint: 'GB' }, { ...base, title: 'title.sign-in' }],
  'factors/sms-otp/account-code': [{ title: 'sms.verify.title', destination: '+44 •••• ••23 23', csrfToken: 'token' }],
  'factors/sms-otp/account-number': [{ title: 'sms.account.title', csrfToken: 'token' }],
  'factors/sms-otp/code': ['sent', 'uncertain', 'failed', 'refused', undefined].map((sent) => ({ ...base, title: 'title.sign-in', sent, destination: '+44 •••• ••23 23', codeLength: 6, numeric: sent !== 'failed', canResend: true, resendWait: 30, canChangeNumber: true })),
  'factors/totp/account-add': [{ title: 'totp.start.title', qr: '<svg></svg>', secret: 'ABCD', uri: 'otpauth://totp/x', csrfToken: 'token' }],
  'factors/totp/account-remove': [{ title: 'totp.remove.title', csrfToken: 'token' }],
  'factors/totp/account-start': [{ title: 'totp.start.title', replaces: true, csrfToken: 'token' }],
  'factors/totp/code': [{ ...base, title: 'title.sign-in', step: 'totp' }],
};

function pages(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'static' ? [] : pages(full, `${prefix}${name}/`);
    return name.endsWith('.pug') && !['layout.pug', 'mixins.pug'].includes(name) ? [`${prefix}${name.slice(0, -4)}`] : [];
  });
}

describe('every page in every language', () => {
  const views = createViews('Keystep', viewsDir, allTexts);

  it('has a model here for each of its views', () => {
    expect(pages(viewsDir).sort()).toEqual(Object.keys(models).sort());
  });

  for (const language of ['en', 'de', 'fr']) {
    it(`writes every text of every page in ${language}, and says so in <html lang>`, () => {
      const problems: string[] = [];
      for (const [name, variants] of Object.entries(models)) {
        for (const model of variants) {
          const html = views.render(name, typeof model === 'function' ? model(language) : model, language);
          if (htmlLang(html) !== language) problems.push(`${name}: <html lang="${htmlLang(html)}">`);
          for (const left of untranslated(html, language)) problems.push(`${name}: ${left}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('sets an argument in its own element wherever the language puts it', () => {
    const model = models['factors/sms-otp/code']![0] as Record<string, unknown>;
    expect(visibleText(views.render('factors/sms-otp/code', model, 'de'))).toContain('Wir haben einen Code per SMS an +44 •••• ••23 23 gesendet.');
    expect(views.render('factors/sms-otp/code', model, 'de')).toContain('an <strong class="destination">+44 •••• ••23 23</strong> gesendet.');
  });

  it('gives the countdown script its text for each plural form of the language', () => {
    const html = views.render('factors/sms-otp/code', models['factors/sms-otp/code']![0] as Record<string, unknown>, 'fr');
    const forms = JSON.parse(/data-wait="([^"]+)"/.exec(html)![1]!.replace(/&quot;/g, '"')) as Record<string, string>;
    expect(forms.one).toBe('Vous pourrez demander un nouveau code dans # seconde.');
    expect(forms.other).toBe('Vous pourrez demander un nouveau code dans # secondes.');
  });
});
