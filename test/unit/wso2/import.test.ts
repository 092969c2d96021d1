import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { importWso2, type ImportResult } from '../../../src/cli/wso2/import.ts';
import { Wso2InputError } from '../../../src/cli/wso2/read-config.ts';

const fixture = (name: string) => ({ file: name, text: readFileSync(`test/fixtures/wso2/${name}`, 'utf8') });
const xml = fixture('application-authentication.xml');
const toml = fixture('deployment.toml');
const twilio = fixture('twilio-sms-provider.yaml');

function ok(result: ImportResult) {
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return { ...result, config: parse(result.yaml) as Record<string, Record<string, unknown>> };
}

function refused(run: () => ImportResult): string {
  try {
    const result = run();
    if (result.ok) throw new Error('the import was not refused');
    return result.problems.join('\n');
  } catch (err) {
    if (err instanceof Wso2InputError) return err.message;
    throw err;
  }
}

const provider = (text: string) => ({ file: 'provider.yaml', text });

describe('import wso2', () => {
  it('reads the SMSOTP block of a real deployment and its Twilio provider, and reports each parameter', () => {
    const result = ok(importWso2({ config: xml, provider: twilio }));
    expect(result.config.smsOtp).toEqual({
      retryEnable: true, resendEnable: true, backupCode: true, enableByUserClaim: false, mandatory: false, captureAndUpdateMobileNumber: true,
    });
    // Twilio's resource becomes the preset; its placeholders the settings still to give.
    expect(result.config.sms).toEqual({ sender: 'http', gateway: { preset: 'twilio' } });
    expect(result.asks.map((a) => [a.setting, a.placeholder, a.secret])).toEqual([
      ['sms.gateway.accountSid', 'AccountSID', false],
      ['sms.gateway.authToken', 'AuthToken', true],
      ['sms.gateway.from', 'FROM_NUM', false],
    ]);
    const report = result.report;
    for (const name of ['SMSOTPAuthenticationEndpointURL', 'SMSOTPAuthenticationEndpointErrorPage', 'MobileNumberRegPage', 'RetryEnable', 'ResendEnable', 'BackupCode',
      'SMSOTPEnableByUserClaim', 'SMSOTPMandatory', 'usecase', 'secondaryUserstore', 'CaptureAndUpdateMobileNumber', 'SendOTPDirectlyToMobile']) {
      expect(report).toContain(`${name}=`);
    }
    expect(report).toMatch(/SMSOTPMandatory=false: Keystep's default is true \(fail closed\)/);
    expect(report).toContain('keystep idp add <name> --issuer <url> --client-id <id> --client-secret-stdin --usecase association --domains primary');
    expect(report).toMatch(/KEYSTEP_SMS_GATEWAY_AUTH_TOKEN\): \{AuthToken\} \(a secret/);
    expect(report).toMatch(/No setting of their own: SMSOTPAuthenticationEndpointURL, SMSOTPAuthenticationEndpointErrorPage, MobileNumberRegPage/);
    expect(result.yaml).not.toContain('usecase');
  });

  it('reads the deployment.toml of 6.x and 7.x to the same configuration', () => {
    const fromToml = ok(importWso2({ config: toml, provider: twilio }));
    const fromXml = ok(importWso2({ config: xml, provider: twilio }));
    expect(fromToml.config).toEqual(fromXml.config);
    expect(fromToml.report).toContain('6.x/7.x TOML');
    expect(fromToml.report).toContain('--usecase association --domains primary');
  });

  it('decodes a payload value WSO2 sent already encoded once, so Keystep does not encode it twice', () => {
    const result = ok(importWso2({ config: xml, provider: provider([
      'url: https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages.json',
      'method: POST',
      'headers: "Authorization: Basic base64{AccountSID:AuthToken}"',
      'payload: Body=$ctx.msg&To=$ctx.num&From=%2B15005550006',
      'values:',
      '  AuthToken: twilio-auth-token',
    ].join('\n')) }));
    expect(result.config.sms!.gateway).toEqual({ preset: 'twilio', accountSid: 'AC0123', authToken: 'twilio-auth-token', from: '+15005550006' });
    expect(result.report).toContain('%2B15005550006 decoded once');
    expect(result.report).not.toContain('twilio-auth-token');
    expect(result.secretsInFile).toBe(true);
  });

  it('keeps any other provider as URL, method, headers and payload, with base64{…} as basic auth', () => {
    const result = ok(importWso2({ config: xml, provider: provider([
      'url: https://sms.example.com/send?account={ACCOUNT}',
      'method: post',
      'headers: "Authorization: Basic base64{USER:PASS}, X-Client: keystep"',
      'payload: to=$ctx.num&text=$ctx.msg&sender=Acme%20ID',
      'httpResponse: 200,202',
      'values:',
      '  ACCOUNT: acme',
      '  USER: acme-user',
      '  PASS: acme-pass',
    ].join('\n')) }));
    expect(result.config.sms!.gateway).toEqual({
      url: 'https://sms.example.com/send?account=acme', method: 'POST', basicAuth: { username: 'acme-user', password: 'acme-pass' },
      headers: { 'X-Client': 'keystep' }, payload: 'to=$ctx.num&text=$ctx.msg&sender=Acme ID', successStatus: [200, 202],
    });
    expect(result.report).not.toContain('acme-pass');
  });

  it('refuses XML it cannot read, with the line and the reason', () => {
    const broken = xml.text.replace('<Parameter name="BackupCode">true</Parameter>', '<Parameter name="BackupCode">true</Parameter');
    expect(refused(() => importWso2({ config: { file: 'a.xml', text: broken } }))).toMatch(/^a\.xml:7: not well-formed XML: /);
    expect(refused(() => importWso2({ config: { file: 'a.xml', text: '<AuthenticatorConfigs/>' } }))).toMatch(/no <AuthenticatorConfig name="SMSOTP">/);
  });

  it('refuses TOML it cannot read, with the line and the reason', () => {
    const broken = toml.text.replace('RetryEnable = true', 'RetryEnable = ');
    expect(refused(() => importWso2({ config: { file: 'deployment.toml', text: broken } }))).toMatch(/^deployment\.toml:12: not valid TOML: /);
    expect(refused(() => importWso2({ config: { file: 'deployment.toml', text: '[server]\nhostname = "x"\n' } }))).toMatch(/no \[authentication\.authenticator\.sms_otp\] table/);
  });

  it('refuses an unknown parameter, a value of the wrong kind and one out of Keystep\'s range, each with its line', () => {
    const text = xml.text
      .replace('<Parameter name="RetryEnable">true</Parameter>', '<Parameter name="RetryEnabled">true</Parameter>')
      .replace('<Parameter name="ResendEnable">true</Parameter>', '<Parameter name="ResendEnable">yes</Parameter>');
    const problems = refused(() => importWso2({ config: { file: 'a.xml', text } }));
    expect(problems).toContain('a.xml:5: unknown SMSOTP parameter "RetryEnabled"');
    expect(problems).toContain('a.xml:6: ResendEnable must be true or false, not "yes"');
    const tooLong = toml.text.replace('RetryEnable = true', 'TokenExpiryTime = 900');
    expect(refused(() => importWso2({ config: { file: 'd.toml', text: tooLong } }))).toMatch(/^d\.toml:12: TokenExpiryTime=900 cannot become smsOtp\.tokenExpirySeconds: /);
  });

  it('refuses a provider whose placeholders have no value or that never names the number', () => {
    const missing = provider('url: https://sms.example.com/send\npayload: key={API_KEY}&to=$ctx.num&text=$ctx.msg\n');
    expect(refused(() => importWso2({ config: xml, provider: missing }))).toMatch(/payload key: the placeholder \{API_KEY\} has no value; give it under values:/);
    const noNumber = provider('url: https://sms.example.com/send\npayload: text=$ctx.msg\n');
    expect(refused(() => importWso2({ config: xml, provider: noNumber }))).toMatch(/never uses \$ctx\.num/);
    expect(refused(() => importWso2({ config: xml, provider: provider('url: https://x.example\nbody: a\n') }))).toMatch(/^provider\.yaml:2: unknown field "body"/);
    expect(refused(() => importWso2({ config: xml, provider: provider('url: [https://x.example\n') }))).toMatch(/^provider\.yaml:\d+: not valid YAML/);
  });
});
