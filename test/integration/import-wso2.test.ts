import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { gatewayProblems } from '../../src/sms-wiring.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'keystep-import-'));
const xml = 'test/fixtures/wso2/application-authentication.xml';
const toml = 'test/fixtures/wso2/deployment.toml';
const twilio = 'test/fixtures/wso2/twilio-sms-provider.yaml';
// What the report asks for: the values the WSO2 placeholders stood for.
const asked = { KEYSTEP_SMS_GATEWAY_ACCOUNT_SID: 'AC0123456789abcdef', KEYSTEP_SMS_GATEWAY_AUTH_TOKEN: 'twilio-auth-token', KEYSTEP_SMS_GATEWAY_FROM: '+15005550006' };

describe('keystep import wso2', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a configuration Keystep loads, once the settings the report asks for are given', async () => {
    const out = path.join(dir, 'keystep.yaml');
    const result = await runCli(['import', 'wso2', xml, '--sms-provider', twilio, '--out', out], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SMSOTPMandatory=false: Keystep\'s default is true');
    expect(result.stdout).toContain('KEYSTEP_SMS_GATEWAY_ACCOUNT_SID');
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const config = loadConfig({ KEYSTEP_CONFIG: out, ...asked }, {}, { smsGateway: gatewayProblems });
    expect(config.smsOtp).toMatchObject({ mandatory: false, retryEnable: true, resendEnable: true, backupCode: true, captureAndUpdateMobileNumber: true });
    expect(config.sms.sender).toBe('http');
    // Without them Keystep says what is missing, as the report did.
    expect(() => loadConfig({ KEYSTEP_CONFIG: out }, {}, { smsGateway: gatewayProblems })).toThrow(/sms\.gateway\.accountSid/);

    // The request Keystep would send: basic auth built in, the sender's + encoded once.
    const dryRun = await runCli(['sms', 'test', '+447400123456', '--dry-run'], { KEYSTEP_CONFIG: out, ...asked });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('POST https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json');
    expect(dryRun.stdout).toContain('Authorization: Basic [redacted]');
    expect(dryRun.stdout).toContain('From=%2B15005550006');
  });

  it('prints the configuration on standard output and the report on standard error without --out', async () => {
    const result = await runCli(['import', 'wso2', toml, '--sms-provider', twilio], {});
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toMatchObject({ smsOtp: { mandatory: false }, sms: { sender: 'http', gateway: { preset: 'twilio' } } });
    expect(result.stderr).toContain('--usecase association --domains primary');
  });

  it('decodes a payload value that WSO2 had encoded, and the request carries it encoded once', async () => {
    const provider = path.join(dir, 'encoded.yaml');
    writeFileSync(provider, 'url: https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/SMS/Messages.json\nmethod: POST\nheaders: "Authorization: Basic base64{AccountSID:AuthToken}"\npayload: Body=$ctx.msg&To=$ctx.num&From=%2B15005550006\n');
    const out = path.join(dir, 'encoded-keystep.yaml');
    expect((await runCli(['import', 'wso2', xml, '--sms-provider', provider, '--out', out], {})).code).toBe(0);
    expect(parse(readFileSync(out, 'utf8')).sms.gateway.from).toBe('+15005550006');
    const dryRun = await runCli(['sms', 'test', '+447400123456', '--dry-run'], { KEYSTEP_CONFIG: out, KEYSTEP_SMS_GATEWAY_AUTH_TOKEN: 'twilio-auth-token' });
    expect(dryRun.stdout).toMatch(/From=%2B15005550006/);
    expect(dryRun.stdout).not.toMatch(/%252B/);
  });

  it('keeps the + of a number that WSO2\'s payload had not encoded, rather than make it a space', async () => {
    const provider = path.join(dir, 'plus.yaml');
    writeFileSync(provider, 'url: https://api.twilio.com/2010-04-01/Accounts/{AccountSID}/SMS/Messages.json\nmethod: POST\nheaders: "Authorization: Basic base64{AccountSID:AuthToken}"\npayload: Body=$ctx.msg&To=$ctx.num&From=+15005550006\n');
    const result = await runCli(['import', 'wso2', xml, '--sms-provider', provider], {});
    expect(result.code).toBe(0);
    expect(parse(result.stdout).sms.gateway.from).toBe('+15005550006');
    const other = path.join(dir, 'plus-other.yaml');
    writeFileSync(other, 'url: https://sms.example.com/send\nmethod: POST\npayload: to=$ctx.num&text=$ctx.msg&sender=+447400000001&note=a+b\n');
    const own = await runCli(['import', 'wso2', xml, '--sms-provider', other], {});
    expect(parse(own.stdout).sms.gateway.payload).toBe('to=$ctx.num&text=$ctx.msg&sender=+447400000001&note=a b');
  });

  it('takes the account and token written into base64{…} as they are, and never prints the token', async () => {
    // What a deployment that followed WSO2's Twilio page has: its own SID and token in the header.
    const token = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
    const provider = path.join(dir, 'literal.yaml');
    writeFileSync(provider, `url: https://api.twilio.com/2010-04-01/Accounts/{AccountSID}/SMS/Messages.json\nmethod: POST\nheaders: "Authorization: Basic base64{AC0123456789abcdef:${token}}"\npayload: Body=$ctx.msg&To=$ctx.num&From=%2B15005550006\n`);
    const result = await runCli(['import', 'wso2', xml, '--sms-provider', provider], {});
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).toContain('[redacted]');
    expect(parse(result.stdout).sms.gateway).toMatchObject({ preset: 'twilio', accountSid: 'AC0123456789abcdef', authToken: token, from: '+15005550006' });
    // The same for a gateway of its own: Keystep's basic auth from the header's values.
    const other = path.join(dir, 'literal-other.yaml');
    writeFileSync(other, `url: https://sms.example.com/send\nmethod: POST\nheaders: "Authorization: Basic base64{keystep:s3cret-passw0rd}"\npayload: to=$ctx.num&text=$ctx.msg\n`);
    const own = await runCli(['import', 'wso2', xml, '--sms-provider', other], {});
    expect(own.code).toBe(0);
    expect(own.stderr).not.toContain('s3cret-passw0rd');
    expect(parse(own.stdout).sms.gateway.basicAuth).toEqual({ username: 'keystep', password: 's3cret-passw0rd' });
  });

  it('refuses input it cannot read with the line and the reason, exits 1, and shows no stack trace', async () => {
    const bad = path.join(dir, 'bad.xml');
    writeFileSync(bad, readFileSync(xml, 'utf8').replace('</Parameter>\n    <Parameter name="ResendEnable">', '</Parametr>\n    <Parameter name="ResendEnable">'));
    const result = await runCli(['import', 'wso2', bad], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^keystep: cannot import: .*bad\.xml:5: not well-formed XML: /);
    expect(result.stderr).not.toMatch(/\n\s+at |--debug/);

    const unknown = path.join(dir, 'unknown.toml');
    writeFileSync(unknown, readFileSync(toml, 'utf8').replace('BackupCode = true', 'BackupCodes = true'));
    const refused = await runCli(['import', 'wso2', unknown], {});
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/unknown\.toml:14: unknown SMSOTP parameter "BackupCodes"/);

    expect((await runCli(['import', 'wso2', path.join(dir, 'missing.xml')], {})).stderr).toMatch(/^keystep: cannot read the WSO2 configuration .*missing\.xml: ENOENT/);
    const binary = path.join(dir, 'binary.xml');
    writeFileSync(binary, Buffer.from([0x3c, 0xff, 0xfe, 0x00]));
    expect((await runCli(['import', 'wso2', binary], {})).stderr).toMatch(/not UTF-8 text/);
  });

  it('never prints a secret header\'s value, with or without an authentication scheme before it', async () => {
    const provider = path.join(dir, 'api-key.yaml');
    writeFileSync(provider, 'url: https://sms.example.com/send\nmethod: POST\nheaders: "Authorization: Bearer s3cr3t-bearer-token, X-Api-Key: xk3y-0123456789"\npayload: to=$ctx.num&text=$ctx.msg\n');
    const result = await runCli(['import', 'wso2', xml, '--sms-provider', provider], {});
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/s3cr3t-bearer-token|xk3y-0123456789/);
    expect(result.stderr).toContain('Authorization: Bearer [redacted], X-Api-Key: [redacted]');
    expect(parse(result.stdout).sms.gateway.headers).toEqual({ Authorization: 'Bearer s3cr3t-bearer-token', 'X-Api-Key': 'xk3y-0123456789' });
    // Beside a base64{…} header too.
    writeFileSync(provider, 'url: https://sms.example.com/send\nmethod: POST\nheaders: "Authorization: Basic base64{User:Password}, X-Api-Key: xk3y-0123456789"\npayload: to=$ctx.num&text=$ctx.msg\n');
    const beside = await runCli(['import', 'wso2', xml, '--sms-provider', provider], {});
    expect(beside.code).toBe(0);
    expect(beside.stderr).not.toContain('xk3y-0123456789');
    expect(beside.stderr).toContain('Authorization: Basic base64{User:Password}, X-Api-Key: [redacted]');
  });

  it('names the line of the SMS provider file a value it cannot take is on', async () => {
    const cases: [string, RegExp][] = [
      ['url: https://sms.example.com/send\nmethod: POST\npayload: to=$ctx.num&text=%ZZ$ctx.msg\n', /bad-provider\.yaml:3: payload: .*% that is not followed by two hex digits/],
      ['url: https://sms.example.com/{Region}/send\nmethod: POST\npayload: to=$ctx.num&text=$ctx.msg\n', /bad-provider\.yaml:1: url: the placeholder \{Region\} has no value/],
      ['url: https://sms.example.com/send\nheaders: "X-Key: {ApiKey}"\npayload: to=$ctx.num&text=$ctx.msg\n', /bad-provider\.yaml:2: header X-Key: the placeholder \{ApiKey\} has no value/],
      ['url: https://sms.example.com/send\npayload: to=$ctx.num&text=$ctx.msg\nhttpResponse: ok\n', /bad-provider\.yaml:3: httpResponse: "ok" is not a list/],
    ];
    const provider = path.join(dir, 'bad-provider.yaml');
    for (const [text, message] of cases) {
      writeFileSync(provider, text);
      const result = await runCli(['import', 'wso2', xml, '--sms-provider', provider], {});
      expect({ text, code: result.code, stderr: result.stderr }).toEqual({ text, code: 1, stderr: expect.stringMatching(message) });
    }
  });

  it('does not overwrite a file unless told to', async () => {
    const out = path.join(dir, 'existing.yaml');
    writeFileSync(out, 'issuer: https://id.example.com\n');
    const result = await runCli(['import', 'wso2', xml, '--out', out], {});
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/exists; choose another --out, or add --force/) });
    expect(readFileSync(out, 'utf8')).toBe('issuer: https://id.example.com\n');
    expect((await runCli(['import', 'wso2', xml, '--out', out, '--force'], {})).code).toBe(0);
    expect(parse(readFileSync(out, 'utf8'))).toEqual({ smsOtp: expect.objectContaining({ mandatory: false }) });
  });

  it('leaves an overwritten file readable by its owner only, as a new one, since it may hold the gateway\'s secret', async () => {
    const out = path.join(dir, 'shared.yaml');
    writeFileSync(out, 'issuer: https://id.example.com\n', { mode: 0o644 });
    chmodSync(out, 0o644);
    const literal = path.join(dir, 'secret-provider.yaml');
    writeFileSync(literal, 'url: https://sms.example.com/send\nmethod: POST\nheaders: "Authorization: Bearer 0123456789abcdef0123"\npayload: to=$ctx.num&text=$ctx.msg\n');
    expect((await runCli(['import', 'wso2', xml, '--sms-provider', literal, '--out', out, '--force'], {})).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('0123456789abcdef0123');
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});
