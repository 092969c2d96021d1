/** The `sms.gateway` settings, as the configuration schema gives them. */
export interface GatewaySettings {
  preset?: 'twilio' | undefined;
  url?: string | undefined;
  method?: 'GET' | 'POST' | 'PUT' | undefined;
  headers?: Record<string, string> | string | undefined;
  payload?: string | undefined;
  contentType?: 'form' | 'json' | undefined;
  basicAuth?: { username: string; password: string } | undefined;
  successStatus?: number[] | undefined;
  messageIdPath?: string | undefined;
  timeoutMs: number;
  accountSid?: string | undefined;
  authToken?: string | undefined;
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
}

/** The gateway request template, once the preset is applied and the headers are parsed. */
export interface GatewayTemplate {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers: [string, string][];
  /** Form payloads as key/value templates; JSON payloads as text. */
  form?: [string, string][];
  json?: string;
  successStatus?: number[];
  messageIdPath?: string;
  timeoutMs: number;
  /** Literal values from the configuration that must never be printed or logged. */
  secrets: string[];
}

/** A template that cannot be filled safely: a start-up error listing why. */
export class GatewayConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid SMS gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const SECRET_NAME = /auth|token|secret|password|passwd|pass|key|signature|credential/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `Name: value, Name2: value2` (the WSO2 form) or a map. */
function parseHeaders(headers: GatewaySettings['headers']): [string, string][] {
  if (headers === undefined) return [];
  if (typeof headers !== 'string') return Object.entries(headers);
  return headers
    .split(/,\s*(?=[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*:)/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const colon = part.indexOf(':');
      return colon < 0 ? [part, ''] : [part.slice(0, colon).trim(), part.slice(colon + 1).trim()];
    });
}

function parseForm(payload: string): [string, string][] {
  return payload.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

const TWILIO = 'https://api.twilio.com/2010-04-01/Accounts';

/**
 * Applies the preset (explicit settings win) and gathers what is secret. `statusCallback`: the URL the
 * Twilio preset asks Twilio to post delivery receipts to.
 */
export function resolveGateway(settings: GatewaySettings, statusCallback?: string): GatewayTemplate {
  const problems: string[] = [];
  let { url, method, payload, basicAuth, successStatus, messageIdPath } = settings;
  let form: [string, string][] | undefined;
  if (settings.preset === 'twilio') {
    const { accountSid, authToken, from, messagingServiceSid } = settings;
    if (!accountSid) problems.push('sms.gateway.accountSid: the twilio preset needs the Account SID');
    if (!authToken) problems.push('sms.gateway.authToken: the twilio preset needs the Auth Token');
    if (!from === !messagingServiceSid) problems.push('sms.gateway.from: the twilio preset needs either from or messagingServiceSid');
    url ??= `${TWILIO}/${encodeURIComponent(accountSid ?? '')}/Messages.json`;
    method ??= 'POST';
    if (!payload) form = [['To', '$ctx.num'], from ? ['From', from] : ['MessagingServiceSid', messagingServiceSid ?? ''], ['Body', '$ctx.msg'], ...(statusCallback ? [['StatusCallback', statusCallback] as [string, string]] : [])];
    basicAuth ??= accountSid && authToken ? { username: accountSid, password: authToken } : undefined;
    successStatus ??= [201];
    messageIdPath ??= 'sid';
  }
  if (!url) problems.push('sms.gateway.url: the http sender needs the gateway URL (or preset: twilio)');
  if (!url || problems.length) throw new GatewayConfigError(problems);

  const headers = parseHeaders(settings.headers);
  const secrets: string[] = [];
  if (basicAuth) {
    if (headers.some(([name]) => name.toLowerCase() === 'authorization')) {
      throw new GatewayConfigError(['sms.gateway.basicAuth: give basicAuth or an Authorization header, not both']);
    }
    headers.push(['Authorization', `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`]);
    secrets.push(basicAuth.password);
  }
  for (const [name, value] of headers) if (looksSecret(name)) secrets.push(value);
  if (settings.authToken) secrets.push(settings.authToken);

  const declared = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const contentType = settings.contentType ?? (declared && /json/i.test(declared) ? 'json' : 'form');
  const resolvedMethod = method ?? 'POST';
  if (payload !== undefined && contentType === 'form') form = parseForm(payload);
  for (const [name, value] of form ?? []) if (looksSecret(name) && !value.includes('$ctx.')) secrets.push(value);
  const parsedUrl = new URL(url.replace(/\$ctx\.\w+/g, 'x'), 'http://invalid');
  for (const [name, value] of parsedUrl.searchParams) {
    if (looksSecret(name)) secrets.push(value);
  }
  // Credentials written into the URL itself (https://user:password@host/...).
  if (parsedUrl.password) secrets.push(parsedUrl.password, decodeURIComponent(parsedUrl.password));
  if (!declared && resolvedMethod !== 'GET' && (form || payload !== undefined)) {
    headers.push(['Content-Type', contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded']);
  }
  return {
    url,
    method: resolvedMethod,
    headers,
    ...(contentType === 'json' ? { json: payload } : { form }),
    successStatus,
    messageIdPath,
    timeoutMs: settings.timeoutMs,
    secrets: secrets.filter((s) => s.length >= 4),
  };
}
