import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.ts';
import { withConfigTable } from '../../src/config/docs.ts';
import { loadConfig } from '../../src/config/load.ts';
import { settings } from '../../src/config/settings.ts';
import { loadTranslations } from '../../src/app.ts';
import type { Config } from '../../src/config/schema.ts';
import { gatewayProblems } from '../../src/sms-wiring.ts';


describe('configuration', () => {
  it('has honest defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.demo).toBe(true);
    expect(config.password).toMatchObject({ minLength: 8, lockAfter: 10 });
    expect(config.session.ttlSeconds).toBe(86400);
  });

  it('listens on loopback unless told otherwise, in every mode; KEYSTEP_HOST (not HOST) says otherwise', () => {
    const production = { NODE_ENV: 'production', KEYSTEP_ISSUER: 'https://id.example.com', KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_GATEWAY_URL: 'https://sms.example.com/send', KEYSTEP_SMS_GATEWAY_PAYLOAD: 'to=$ctx.num&text=$ctx.msg', KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB' };
    for (const env of [{}, { NODE_ENV: 'test' }, production]) expect(loadConfig({ ...env, HOST: 'build-box.example.com' }).host).toBe('127.0.0.1');
    expect(loadConfig({ KEYSTEP_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('reads the environment, typed, for every key', () => {
    const config = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://x@db/k', KEYSTEP_ISSUER: 'https://id.example.com/', KEYSTEP_AUTO_MIGRATE: 'true', KEYSTEP_PASSWORD_LOCK_AFTER: '5', KEYSTEP_KEYS_COOKIE_KEYS: 'a'.repeat(32) + ',' + 'b'.repeat(32) });
    expect(config).toMatchObject({ port: 8080, databaseUrl: 'postgres://x@db/k', issuer: 'https://id.example.com', autoMigrate: true });
    expect(config.password.lockAfter).toBe(5);
    expect(config.keys.cookieKeys).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(new Set(settings.map((s) => s.env)).size).toBe(settings.length);
  });

  it('reads a YAML or JSON file named by KEYSTEP_CONFIG, with the environment winning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keystep-config-'));
    const file = path.join(dir, 'keystep.yaml');
    writeFileSync(file, 'port: 4000\npassword:\n  minLength: 12\nserviceName: Acme ID\n');
    const config = loadConfig({ KEYSTEP_CONFIG: file, PORT: '5000' });
    expect(config.port).toBe(5000);
    expect(config.password.minLength).toBe(12);
    expect(config.serviceName).toBe('Acme ID');
    const json = path.join(dir, 'keystep.json');
    writeFileSync(json, JSON.stringify({ port: 4001 }));
    expect(loadConfig({ KEYSTEP_CONFIG: json }).port).toBe(4001);
  });

  it('lists every problem at once, naming the key and its variable', () => {
    const problems = problemsOf(() => loadConfig({ PORT: 'eighty', KEYSTEP_PASSWORD_MIN_LENGTH: '4', KEYSTEP_AUTO_MIGRATE: 'maybe', KEYSTEP_SESSION_TTL_SECONDS: '999999' }));
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/port \(PORT\)/);
    expect(problems.join('\n')).toMatch(/password.minLength \(KEYSTEP_PASSWORD_MIN_LENGTH\)/);
    expect(problems.join('\n')).toMatch(/session.ttlSeconds/);
  });

  it('refuses unknown keys in the file and unreadable files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keystep-config-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'prot: 1\npassword:\n  minLenght: 9\n');
    // The schema reports nested groups first; the order says nothing.
    expect(problemsOf(() => loadConfig({ KEYSTEP_CONFIG: file })).sort()).toEqual(['password.minLenght: unknown setting', 'prot: unknown setting']);
    expect(problemsOf(() => loadConfig({}, { 'sms.gateway.urll': 'https://sms.example.com' }))).toEqual(['sms.gateway.urll: unknown setting']);
    expect(problemsOf(() => loadConfig({ KEYSTEP_CONFIG: path.join(dir, 'missing.yaml') }))[0]).toMatch(/cannot read/);
    writeFileSync(file, 'a: [');
    expect(problemsOf(() => loadConfig({ KEYSTEP_CONFIG: file }))[0]).toMatch(/not valid YAML/);
  });

  it('lists the gateway template\'s problems with the others, whether or not the rest is valid', () => {
    const gateway = { KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_GATEWAY_URL: 'https://sms.example.com/send', KEYSTEP_SMS_GATEWAY_PAYLOAD: 'text=$ctx.msg' };
    const checks = { smsGateway: gatewayProblems };
    expect(problemsOf(() => loadConfig({ ...gateway, PORT: 'eighty', KEYSTEP_PASSWORD_MIN_LENGTH: '4' }, {}, checks))).toEqual([
      'port (PORT): Invalid input: expected number, received string',
      'password.minLength (KEYSTEP_PASSWORD_MIN_LENGTH): Too small: expected number to be >=8',
      'the request never uses $ctx.num, so it cannot say where the SMS goes',
    ]);
    expect(problemsOf(() => loadConfig(gateway, {}, checks))).toEqual(['the request never uses $ctx.num, so it cannot say where the SMS goes']);
    // Only a gateway in use is judged, and a fine one passes.
    expect(loadConfig({ ...gateway, KEYSTEP_SMS_SENDER: 'console' }, {}, checks).sms.sender).toBe('console');
    expect(loadConfig({ ...gateway, KEYSTEP_SMS_GATEWAY_PAYLOAD: 'to=$ctx.num&text=$ctx.msg' }, {}, checks).sms.sender).toBe('http');
  });

  it('lists the translation files\' problems with the others, as serve checks them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keystep-texts-'));
    writeFileSync(path.join(dir, 'de.json'), JSON.stringify({ NO_SUCH_TEXT: 'x' }));
    const checks = { translations: (t: Config['translations']) => loadTranslations(t).problems };
    expect(problemsOf(() => loadConfig({ PORT: 'eighty', KEYSTEP_TRANSLATIONS_DIR: dir, KEYSTEP_TRANSLATIONS_DEFAULT_LANGUAGE: 'es' }, {}, checks))).toEqual([
      'port (PORT): Invalid input: expected number, received string',
      'translations (KEYSTEP_TRANSLATIONS_DIR, KEYSTEP_TRANSLATIONS_DEFAULT_LANGUAGE): de: NO_SUCH_TEXT is not a text Keystep has',
      expect.stringMatching(/^translations .*: the default language es has no texts/),
    ]);
    writeFileSync(path.join(dir, 'de.json'), JSON.stringify({ 'title.sign-in': 'Einloggen' }));
    expect(loadConfig({ KEYSTEP_TRANSLATIONS_DIR: dir }, {}, checks).translations).toEqual({ dir, defaultLanguage: 'en' });
  });

  it('refuses development defaults in production', () => {
    const problems = problemsOf(() => loadConfig({ NODE_ENV: 'production', KEYSTEP_DEMO: 'true' }));
    expect(problems).toEqual([
      'demo (KEYSTEP_DEMO): demo data is refused in production',
      'sms.sender (KEYSTEP_SMS_SENDER): the console sender is for development; set it to http and configure sms.gateway',
      'sms.allowedCountries (KEYSTEP_SMS_ALLOWED_COUNTRIES): must list the countries SMS may go to in production (`*` allows all)',
      'issuer (KEYSTEP_ISSUER): must be set in production',
    ]);
    expect(problemsOf(() => loadConfig({ NODE_ENV: 'production', KEYSTEP_ISSUER: 'http://id.example.com' }))).toContain('issuer (KEYSTEP_ISSUER): must use https in production');
    expect(problemsOf(() => loadConfig({ NODE_ENV: 'production', KEYSTEP_ISSUER: 'https://id.example.com', KEYSTEP_SMS_ALLOWED_COUNTRIES: 'GB,IE' }))).toEqual([
      'sms.sender (KEYSTEP_SMS_SENDER): the console sender is for development; set it to http and configure sms.gateway',
    ]);
    const prod = loadConfig({ NODE_ENV: 'production', KEYSTEP_ISSUER: 'https://id.example.com', KEYSTEP_SMS_SENDER: 'http', KEYSTEP_SMS_ALLOWED_COUNTRIES: '*' });
    expect(prod.demo).toBe(false);
    expect(prod.sms.allowedCountries).toEqual(['*']);
  });

  it('is documented in full in the README table', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(withConfigTable(readme)).toBe(readme);
    for (const setting of settings) expect(readme).toContain(`\`${setting.env}\``);
  });
});
