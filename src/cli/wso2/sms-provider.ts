import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { looksSecret, parseHeaders } from '../../sms/gateway-settings.ts';
import { Wso2InputError } from './read-config.ts';

/**
 * The SMS provider of WSO2's SMSOTP authenticator, as its console shows it, in a small YAML file:
 *
 *   url: https://api.twilio.com/2010-04-01/Accounts/{AccountSID}/SMS/Messages.json
 *   method: POST
 *   headers: "Authorization: Basic base64{AccountSID:AuthToken}"
 *   payload: Body=$ctx.msg&To=$ctx.num&From={FROM_NUM}
 *   httpResponse: 201          # optional: WSO2's http_response
 *   values:                    # optional: what {placeholders} stand for
 *     FROM_NUM: "+15005550006"
 */
export interface ProviderFile {
  url: string;
  method?: string;
  headers?: string;
  payload?: string;
  httpResponse?: string;
  values: Record<string, string>;
  /** The line each field is on, for pointing at a value the import cannot take. */
  lines?: Partial<Record<string, number>>;
}

/** A Keystep setting the operator still has to give: the WSO2 placeholder it stands for. */
export interface Ask {
  setting: string;
  env: string;
  placeholder: string;
  secret: boolean;
}

export interface ProviderLine {
  field: string;
  wso2: string;
  keystep: string;
}

export interface ProviderMapping {
  /** The `sms.gateway` settings to write. */
  gateway: Record<string, unknown>;
  lines: ProviderLine[];
  asks: Ask[];
  /** Values with no setting of their own that must not be printed (for the report's redaction). */
  secrets: string[];
}

const FIELDS = ['url', 'method', 'headers', 'payload', 'httpResponse', 'values'] as const;

export function readProviderFile(file: string, text: string): ProviderFile {
  const counter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new Wso2InputError(file, first.linePos?.[0].line, `not valid YAML: ${first.message.split('\n')[0]}`);
  const lineOf = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? counter.linePos(range[0]).line : undefined;
  };
  if (!isMap(doc.contents)) throw new Wso2InputError(file, 1, 'the SMS provider file must be a mapping of url, method, headers, payload (and httpResponse, values)');
  const out: Partial<ProviderFile> & { values: Record<string, string>; lines: Partial<Record<string, number>> } = { values: {}, lines: {} };
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const line = lineOf(pair.key);
    if (!(FIELDS as readonly string[]).includes(key)) throw new Wso2InputError(file, line, `unknown field ${JSON.stringify(key)}; the fields are ${FIELDS.join(', ')}`);
    out.lines[key] = line;
    if (key === 'values') {
      if (!isMap(pair.value)) throw new Wso2InputError(file, line, 'values must map each placeholder name to its value');
      for (const v of pair.value.items) {
        if (!isScalar(v.key) || !isScalar(v.value) || v.value.value === null) throw new Wso2InputError(file, lineOf(v.key) ?? line, 'each of values is a name and a single value');
        out.values[String(v.key.value)] = String(v.value.value);
      }
      continue;
    }
    if (!isScalar(pair.value) || pair.value.value === null) throw new Wso2InputError(file, line, `${key} must be a single value`);
    (out as Record<string, unknown>)[key] = String(pair.value.value);
  }
  if (!out.url) throw new Wso2InputError(file, undefined, 'the SMS provider file needs url (WSO2: SMS URL)');
  return out as ProviderFile;
}

const BRACE = /\{([A-Za-z_][\w.-]*)\}/g;
const BASE64_AUTH = /^Basic\s+base64\{(\{?)([^{}:]+)\}?:(\{?)([^{}:]+)\}?\}$/i;

type BasicPart = { placeholder: string } | { literal: string };

/**
 * The two sides of `base64{user:secret}`. A side is a placeholder when written `{Name}` or when
 * `values` names it; else the value itself when it holds a digit (a deployment that put its own SID
 * and token there), or when the other side is such a value; else a placeholder (`AccountSID`,
 * `AuthToken`, as WSO2's page writes them).
 */
function basicParts(match: RegExpExecArray, values: Record<string, string>): [BasicPart, BasicPart] {
  const sides = [[match[1]!, match[2]!.trim()], [match[3]!, match[4]!.trim()]] as const;
  const named = sides.map(([braced, text]) => Boolean(braced) || Object.hasOwn(values, text));
  const literal = sides.some(([, text], i) => !named[i] && /\d/.test(text));
  return sides.map(([, text], i) => (named[i] || !literal ? { placeholder: text } : { literal: text })) as [BasicPart, BasicPart];
}
const TWILIO_URL = /^https:\/\/api\.twilio\.com\/2010-04-01\/Accounts\/([^/]+)\/(SMS\/)?Messages\.json$/;

/**
 * One form-encoded value as the gateway received it from WSO2, which sent the payload as written.
 * A value that is a number with its `+` not encoded (`From=+15005550006`) meant the `+`: a space
 * there makes no number, so it is kept.
 */
function formDecoded(file: string, text: string, line?: number): string {
  try {
    return decodeURIComponent(/^\+\d+$/.test(text) ? text : text.replace(/\+/g, ' '));
  } catch {
    throw new Wso2InputError(file, line, `payload: ${JSON.stringify(text)} holds a % that is not followed by two hex digits`);
  }
}

/** The payload's fields decoded, each with the text WSO2 had. */
function parseFormPayload(file: string, payload: string, line?: number): [string, string, string][] {
  return payload.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const key = formDecoded(file, k, line);
    const value = formDecoded(file, v, line);
    if (/[&=]/.test(key) || value.includes('&')) throw new Wso2InputError(file, line, `payload: the field ${JSON.stringify(k)} holds & or = once decoded, which a Keystep form payload cannot carry`);
    return [key, value, v];
  });
}

const envOf: Record<string, string> = {
  'sms.gateway.accountSid': 'KEYSTEP_SMS_GATEWAY_ACCOUNT_SID',
  'sms.gateway.authToken': 'KEYSTEP_SMS_GATEWAY_AUTH_TOKEN',
  'sms.gateway.from': 'KEYSTEP_SMS_GATEWAY_FROM',
  'sms.gateway.messagingServiceSid': 'KEYSTEP_SMS_GATEWAY_MESSAGING_SERVICE_SID',
  'sms.gateway.basicAuth': 'KEYSTEP_SMS_GATEWAY_BASIC_AUTH',
};

/**
 * Maps the provider's request onto Keystep's `sms.gateway`. Twilio's Messages resource becomes the
 * `twilio` preset; any other provider its URL, method, headers and payload. `{placeholders}`
 * become the settings the report asks for where Keystep has one (Twilio's account, token and
 * sender, basic auth), else they must be given under `values`.
 */
export function mapProvider(file: string, provider: ProviderFile): ProviderMapping {
  const lines: ProviderLine[] = [];
  const asks: Ask[] = [];
  const secrets: string[] = [];
  const gateway: Record<string, unknown> = {};
  const valueOf = (name: string) => provider.values[name];
  const secretName = (name: string) => looksSecret(name);
  for (const [name, value] of Object.entries(provider.values)) if (secretName(name)) secrets.push(value);

  /** A setting from a literal or a `{placeholder}`: set, or asked for when the placeholder has no value. */
  const fill = (setting: string, text: string, secret: boolean) => {
    const m = /^\{([A-Za-z_][\w.-]*)\}$/.exec(text);
    const value = m ? valueOf(m[1]!) : text;
    if (value !== undefined) {
      gateway[setting.slice('sms.gateway.'.length)] = value;
      if (secret) secrets.push(value);
      return secret ? `${setting} (from ${m ? `{${m[1]}}` : 'the literal value'}; a secret, written to the file: see below)` : `${setting}: ${value}`;
    }
    asks.push({ setting, env: envOf[setting]!, placeholder: m![1]!, secret });
    return `${setting}: asked for below`;
  };

  let headers = provider.headers ? parseHeaders(provider.headers) : [];
  const auth = headers.find(([n]) => n.toLowerCase() === 'authorization');
  const basic = auth ? BASE64_AUTH.exec(auth[1]) : null;
  const [basicUser, basicSecret] = basic ? basicParts(basic, provider.values) : [undefined, undefined];
  // A secret written into the header is written to the configuration, never shown.
  if (basicSecret && 'literal' in basicSecret) secrets.push(basicSecret.literal);
  const literalBasic = auth && !basic ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth[1]) : null;
  // A secret header shows its authentication scheme (`Bearer`) at most; a value without one is the secret itself.
  const redacted = (v: string) => (/^[A-Za-z][\w-]*\s+\S/.test(v) ? `${v.split(/\s+/)[0]} [redacted]` : '[redacted]');
  // A base64{…} header holds placeholders, or values redacted with the report's secrets.
  const shownHeaders = headers.map(([n, v]) => `${n}: ${looksSecret(n) && !(basic && auth && n === auth[0]) ? redacted(v) : v}`).join(', ');
  if (literalBasic) secrets.push(literalBasic[1]!, Buffer.from(literalBasic[1]!, 'base64').toString());

  const contentType = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1];
  const json = contentType !== undefined && /json/i.test(contentType);
  const lineOf = (field: string) => provider.lines?.[field];
  const form = provider.payload !== undefined && !json ? parseFormPayload(file, provider.payload, lineOf('payload')) : undefined;
  const twilio = TWILIO_URL.exec(provider.url);
  const formKeys = form?.map(([k]) => k).sort().join(',');
  const presetFits = twilio && (provider.method ?? 'POST').toUpperCase() === 'POST' && form
    && (formKeys === 'Body,From,To' || formKeys === 'Body,MessagingServiceSid,To')
    && form.find(([k]) => k === 'To')?.[1] === '$ctx.num' && form.find(([k]) => k === 'Body')?.[1] === '$ctx.msg'
    && headers.every(([n]) => ['authorization', 'content-type'].includes(n.toLowerCase()));

  if (presetFits) {
    gateway.preset = 'twilio';
    lines.push({ field: 'SMS URL', wso2: provider.url, keystep: `sms.gateway.preset: twilio (Twilio's Messages resource${twilio[2] ? '; WSO2 named the retired /SMS/Messages.json, the preset posts to /Messages.json' : ''})` });
    lines.push({ field: 'SMS URL: account', wso2: twilio[1]!, keystep: fill('sms.gateway.accountSid', decodeURIComponent(twilio[1]!), false) });
    lines.push({ field: 'HTTP method', wso2: provider.method ?? '(none)', keystep: 'POST, by the preset' });
    if (basic) {
      if (basicUser && 'literal' in basicUser && !gateway.accountSid) {
        // The account the URL left as a placeholder, written in the header.
        gateway.accountSid = basicUser.literal;
        asks.splice(asks.findIndex((a) => a.setting === 'sms.gateway.accountSid'), 1);
      }
      const token = basicSecret && 'literal' in basicSecret
        ? (gateway.authToken = basicSecret.literal, 'sms.gateway.authToken (from the header\'s literal value; a secret, written to the file: see below)')
        : fill('sms.gateway.authToken', `{${(basicSecret as { placeholder: string }).placeholder}}`, true);
      lines.push({ field: 'HTTP headers', wso2: shownHeaders, keystep: `Keystep's built-in basic auth from the account and ${token}` });
    } else if (literalBasic) {
      const [user, ...rest] = Buffer.from(literalBasic[1]!, 'base64').toString().split(':');
      if (user && rest.length) {
        gateway.authToken = rest.join(':');
        if (!gateway.accountSid) gateway.accountSid = user;
      }
      lines.push({ field: 'HTTP headers', wso2: shownHeaders, keystep: 'Keystep\'s built-in basic auth (sms.gateway.accountSid and sms.gateway.authToken, decoded from the header; a secret, written to the file: see below)' });
    } else {
      asks.push({ setting: 'sms.gateway.authToken', env: envOf['sms.gateway.authToken']!, placeholder: 'AuthToken', secret: true });
      lines.push({ field: 'HTTP headers', wso2: shownHeaders || '(none)', keystep: 'sms.gateway.authToken: asked for below (Twilio needs basic auth)' });
    }
    const from = form!.find(([k]) => k === 'From');
    const service = form!.find(([k]) => k === 'MessagingServiceSid');
    const sender = from
      ? fill('sms.gateway.from', from[1], false)
      : fill('sms.gateway.messagingServiceSid', service![1], false);
    lines.push({ field: 'HTTP payload', wso2: provider.payload!, keystep: `To=$ctx.num and Body=$ctx.msg by the preset; ${sender}${from && from[1] !== from[2] ? ` (${from[2]} decoded once: Keystep encodes it when it sends)` : ''}` });
  } else {
    const substitute = (text: string, where: string) => text.replace(BRACE, (_, name: string) => {
      const value = valueOf(name);
      if (value === undefined) throw new Wso2InputError(file, lineOf(where.split(' ')[0] === 'header' ? 'headers' : where.split(' ')[0]!), `${where}: the placeholder {${name}} has no value; give it under values: in the SMS provider file`);
      return value;
    });
    gateway.url = substitute(provider.url, 'url');
    lines.push({ field: 'SMS URL', wso2: provider.url, keystep: 'sms.gateway.url' });
    if (provider.method) {
      gateway.method = provider.method.toUpperCase();
      lines.push({ field: 'HTTP method', wso2: provider.method, keystep: `sms.gateway.method: ${provider.method.toUpperCase()}` });
    }
    if (basic) {
      headers = headers.filter((h) => h !== auth);
      const [user, password] = [basicUser!, basicSecret!].map((part) => ('literal' in part ? part.literal : valueOf(part.placeholder)));
      if (user !== undefined && password !== undefined) {
        gateway.basicAuth = { username: user, password };
        secrets.push(password);
      } else {
        const named = (part: BasicPart, other: string) => ('placeholder' in part ? part.placeholder : other);
        asks.push({ setting: 'sms.gateway.basicAuth', env: envOf['sms.gateway.basicAuth']!, placeholder: `${named(basicUser!, 'user')}:${named(basicSecret!, 'secret')}`, secret: true });
      }
    }
    if (headers.length) gateway.headers = Object.fromEntries(headers.map(([n, v]) => [n, substitute(v, `header ${n}`)]));
    if (provider.headers) lines.push({ field: 'HTTP headers', wso2: shownHeaders, keystep: [basic ? `Keystep's built-in basic auth (sms.gateway.basicAuth${asks.some((a) => a.setting === 'sms.gateway.basicAuth') ? ': asked for below' : ''})` : '', headers.length ? 'sms.gateway.headers' : ''].filter(Boolean).join('; ') });
    if (provider.payload !== undefined) {
      const payload = form ? form.map(([k, v]) => `${k}=${substitute(v, `payload ${k}`)}`).join('&') : substitute(provider.payload, 'payload');
      gateway.payload = payload;
      const decoded = form?.some(([, v, raw]) => v !== raw);
      lines.push({ field: 'HTTP payload', wso2: provider.payload, keystep: `sms.gateway.payload${decoded ? ' (its values decoded once: Keystep encodes each when it sends)' : ''}` });
    }
  }
  if (provider.httpResponse !== undefined) {
    const statuses = provider.httpResponse.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!statuses.length || statuses.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) throw new Wso2InputError(file, lineOf('httpResponse'), `httpResponse: ${JSON.stringify(provider.httpResponse)} is not a list of HTTP statuses`);
    gateway.successStatus = statuses;
    lines.push({ field: 'http_response', wso2: provider.httpResponse, keystep: `sms.gateway.successStatus: [${statuses.join(', ')}]` });
  }
  return { gateway, lines, asks, secrets };
}
