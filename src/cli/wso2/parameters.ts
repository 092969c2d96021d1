import type { Wso2Parameter } from './read-config.ts';

/** What became of one WSO2 parameter. */
export interface ParameterLine {
  parameter: string;
  value: string;
  line: number | undefined;
  /** `set`: written as a Keystep setting; `none`: no equivalent; `federation`: per upstream provider. */
  kind: 'set' | 'none' | 'federation';
  keystep: string;
  /** Where Keystep's default is safer and differs, or Keystep behaves otherwise: what to know. */
  note?: string;
}

export interface ParameterMapping {
  /** Keystep settings by dotted key. */
  settings: Record<string, unknown>;
  /** The parameter each setting came from, for pointing at it when the value is out of range. */
  sources: Record<string, Wso2Parameter>;
  lines: ParameterLine[];
  /** The `keystep idp add` flags the federation parameters call for. */
  idpFlags: string[];
  /** Each with the parameter's line. */
  problems: { line: number | undefined; reason: string }[];
}

type Kind = 'boolean' | 'integer' | 'text';
type Handler = (value: never, out: Out) => Omit<ParameterLine, 'parameter' | 'value' | 'line'>;
interface Out { set(key: string, value: unknown): void; idp(flag: string): void }

const setting = (key: string, note?: (v: never) => string | undefined): Handler => (value, out) => {
  out.set(key, value);
  return { kind: 'set', keystep: `${key}: ${String(value)}`, note: note?.(value) };
};
const none = (keystep: string, note?: (v: never) => string | undefined): Handler => (value) => ({ kind: 'none', keystep, note: note?.(value) });

const PAGES = 'none: Keystep serves its own pages from views/; `viewsDir` points at your own copy';
const USECASES = ['local', 'association', 'userAttribute', 'subjectUri'];

const rules: Record<string, [Kind, Handler]> = {
  SMSOTPAuthenticationEndpointURL: ['text', none(PAGES)],
  SMSOTPAuthenticationEndpointErrorPage: ['text', none(PAGES)],
  MobileNumberRegPage: ['text', none(PAGES)],
  RetryEnable: ['boolean', setting('smsOtp.retryEnable', (v: boolean) => (v ? undefined : 'enforced on the server: the first wrong code ends the login'))],
  ResendEnable: ['boolean', setting('smsOtp.resendEnable', (v: boolean) => (v ? 'with a cooldown the server enforces (smsOtp.resendCooldownSeconds)' : undefined))],
  BackupCode: ['boolean', setting('smsOtp.backupCode', (v: boolean) => (v ? 'codes stored as salted hashes; import them with `keystep user import`' : undefined))],
  SMSOTPEnableByUserClaim: ['boolean', setting('smsOtp.enableByUserClaim', (v: boolean) => (v ? 'exempt users with `keystep user set-sms-otp <user> off`' : undefined))],
  SMSOTPMandatory: ['boolean', setting('smsOtp.mandatory', (v: boolean) => (v ? undefined
    : 'Keystep\'s default is true (fail closed): with false, a user with no number (and capture off) or an exemption signs in with the password only (`amr: ["pwd"]`). Written as WSO2 had it; remove the line to fail closed, or require the factor per client with `keystep client update <id> --mfa required`'))],
  CaptureAndUpdateMobileNumber: ['boolean', setting('smsOtp.captureAndUpdateMobileNumber', (v: boolean) => (v ? 'Keystep saves the number only after a code sent to it was entered, never after a backup code (WSO2 did)' : undefined))],
  TokenLength: ['integer', setting('smsOtp.tokenLength', (v: number) => (v < 6 ? 'NIST 800-63B asks for at least 6 characters; Keystep\'s default is 6' : undefined))],
  SmsOtpLength: ['integer', setting('smsOtp.tokenLength', (v: number) => (v < 6 ? 'NIST 800-63B asks for at least 6 characters; Keystep\'s default is 6' : undefined))],
  EnableAlphanumericToken: ['boolean', setting('smsOtp.alphanumeric')],
  TokenExpiryTime: ['integer', setting('smsOtp.tokenExpirySeconds')],
  MaximumResendAttempts: ['integer', setting('smsOtp.maxResends')],
  EnableUserBasedResendBlocking: ['boolean', none('smsOtp.userSendLimit per smsOtp.userSendWindowSeconds (default 10 per hour)', (v: boolean) => (v ? undefined
    : 'Keystep always limits the SMS per account, against SMS pumping; there is no switch to turn it off'))],
  ResendBlockDuration: ['integer', (v: number, out) => {
    out.set('smsOtp.userSendWindowSeconds', v * 60);
    return { kind: 'set', keystep: `smsOtp.userSendWindowSeconds: ${v * 60}`, note: 'read as minutes, as WSO2 does: the window of the per-account SMS limit' };
  }],
  EnableAccountLockingForFailedAttempts: ['boolean', none('smsOtp.lockoutThreshold and smsOtp.lockoutSeconds (default 10 wrong codes, 15 minutes)', (v: boolean) => (v ? undefined
    : 'Keystep always locks the second factor after smsOtp.lockoutThreshold wrong codes in a row; there is no switch to turn it off'))],
  showAuthFailureReason: ['boolean', setting('smsOtp.showAuthFailureReason')],
  ShowAuthFailureReasonOnLoginPage: ['boolean', setting('smsOtp.showAuthFailureReason')],
  screenUserAttribute: ['text', none('none: the code page always shows the masked number')],
  noOfDigits: ['integer', setting('smsOtp.maskVisibleDigits', () => 'Keystep shows the last digits')],
  order: ['text', none('none: Keystep shows the last digits of the number', (v: string) => (/^backward$/i.test(v) ? undefined : 'WSO2 showed the first digits; Keystep shows the last'))],
  redirectToMultiOptionPageOnFailure: ['boolean', none('none: Keystep\'s code page offers the other factors and backup codes beside the code')],
  usecase: ['text', (v: string, out) => {
    out.idp(`--usecase ${v}`);
    return { kind: 'federation', keystep: `--usecase ${v}` };
  }],
  secondaryUserstore: ['text', (v: string, out) => {
    const domains = v.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean).join(',');
    out.idp(`--domains ${domains}`);
    return { kind: 'federation', keystep: `--domains ${domains}`, note: 'WSO2 user stores become Keystep account domains, searched in this order' };
  }],
  federatedMobileAttributeKey: ['text', (v: string, out) => {
    out.idp(`--mobile-claim ${v}`);
    return { kind: 'federation', keystep: `--mobile-claim ${v}`, note: 'used only where the upstream provider says the number is verified (phone_number_verified)' };
  }],
  SendOtpToFederatedMobile: ['boolean', (v: boolean) => ({
    kind: 'federation',
    keystep: v ? '--mobile-claim <claim> (the federatedMobileAttributeKey)' : 'nothing to set: without --mobile-claim no upstream number is used',
    note: v ? 'the upstream number is used only when the upstream says it is verified; otherwise the user is asked for one' : undefined,
  })],
  SendOTPDirectlyToMobile: ['boolean', (v: boolean) => ({
    kind: 'federation',
    keystep: v ? 'per upstream provider: a federated user without a local account is asked for a number, proven by a code sent to it' : 'nothing to set: a federated user without a local account gets a "not linked" page and no tokens',
  })],
};

function typed(kind: Kind, raw: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = raw.trim();
  if (kind === 'boolean') {
    if (/^true$/i.test(text)) return { ok: true, value: true };
    if (/^false$/i.test(text)) return { ok: true, value: false };
    return { ok: false, reason: `must be true or false, not ${JSON.stringify(raw)}` };
  }
  if (kind === 'integer') return /^\d{1,9}$/.test(text) ? { ok: true, value: Number(text) } : { ok: false, reason: `must be a whole number, not ${JSON.stringify(raw)}` };
  return { ok: true, value: text };
}


/** Every SMSOTP parameter mapped, or the problems of those that cannot be (all of them at once). */
export function mapParameters(parameters: readonly Wso2Parameter[]): ParameterMapping {
  const settings: Record<string, unknown> = {};
  const sources: Record<string, Wso2Parameter> = {};
  const idpFlags: string[] = [];
  const lines: ParameterLine[] = [];
  const problems: ParameterMapping['problems'] = [];
  const seen = new Set<string>();
  for (const p of parameters) {
    const out: Out = { set: (key, value) => { settings[key] = value; sources[key] = p; }, idp: (flag) => idpFlags.push(flag) };
    const rule = rules[p.name];
    if (!rule) {
      problems.push({ line: p.line, reason: `unknown SMSOTP parameter ${JSON.stringify(p.name)} (a typo? the parameters Keystep knows are in the README, "Coming from WSO2")` });
      continue;
    }
    if (seen.has(p.name)) {
      problems.push({ line: p.line, reason: `${p.name} is given twice` });
      continue;
    }
    seen.add(p.name);
    const value = typed(rule[0], p.value);
    if (!value.ok) {
      problems.push({ line: p.line, reason: `${p.name} ${value.reason}` });
      continue;
    }
    if (p.name === 'usecase' && !USECASES.includes(value.value as string)) {
      problems.push({ line: p.line, reason: `usecase must be one of ${USECASES.join(', ')}, not ${JSON.stringify(p.value)}` });
      continue;
    }
    lines.push({ parameter: p.name, value: p.value, line: p.line, ...rule[1](value.value as never, out) });
  }
  return { settings, sources, lines, idpFlags, problems };
}
