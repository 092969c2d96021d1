import { GatewayConfigError, looksSecret, type GatewayTemplate } from './gateway-settings.ts';

export interface TemplateValues {
  num: string;
  msg: string;
  otp: string;
}

// `$ctx.numDigits` is the number without its `+`, for gateways such as Vonage that want it so.
type Filled = TemplateValues & { numDigits: string };

export interface GatewayRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

const PLACEHOLDER = /\$ctx\.([A-Za-z]+)/g;
const KNOWN = new Set(['num', 'numDigits', 'msg', 'otp']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// A function replacer: `$` and `\` in a value are never read as substitution patterns.
function fill(template: string, values: TemplateValues, encode: (value: string) => string): string {
  const all: Filled = { ...values, numDigits: values.num.replace(/^\+/, '') };
  return template.replace(PLACEHOLDER, (_, name: keyof Filled) => encode(all[name]));
}

const raw = (value: string) => value;

function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [fn(k), mapStrings(v, fn)]));
  }
  return value;
}

function jsonSecrets(value: unknown, out: string[]): void {
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' && looksSecret(k) && !v.includes('$ctx.') && v.length >= 4) out.push(v);
    else jsonSecrets(v, out);
  }
}

export interface CompiledGateway {
  template: GatewayTemplate;
  build(values: TemplateValues): GatewayRequest;
}

/**
 * Checks the template once, at start-up, and returns the function that fills it per message, each
 * placeholder escaped for where it lands: percent-encoded in the URL, form-encoded per field, JSON
 * string-encoded in a JSON body; headers refuse line breaks.
 */
export function compileGateway(template: GatewayTemplate): CompiledGateway {
  const problems: string[] = [];
  const texts: [string, string][] = [['url', template.url], ...template.headers.map(([n, v]): [string, string] => [`header ${n}`, `${n}${v}`])];
  for (const [k, v] of template.form ?? []) texts.push(['payload', `${k}${v}`]);
  if (template.json !== undefined) texts.push(['payload', template.json]);
  const used = new Set<string>();
  for (const [where, text] of texts) {
    for (const name of placeholdersIn(text)) {
      if (!KNOWN.has(name)) problems.push(`${where}: unknown placeholder $ctx.${name} (use $ctx.num, $ctx.numDigits, $ctx.msg or $ctx.otp)`);
      used.add(name);
    }
  }
  if (!used.has('num') && !used.has('numDigits')) problems.push('the request never uses $ctx.num, so it cannot say where the SMS goes');
  if (!used.has('msg') && !used.has('otp')) problems.push('the request never uses $ctx.msg or $ctx.otp, so the SMS would not carry the code');

  const sample: TemplateValues = { num: '+15005550006', msg: 'sample', otp: '123456' };
  try {
    const url = new URL(fill(template.url, sample, encodeURIComponent));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('sms.gateway.url: must be an http or https URL');
  } catch {
    problems.push(`sms.gateway.url: ${template.url} is not a valid URL`);
  }
  for (const [name, value] of template.headers) {
    if (!HEADER_NAME.test(name)) problems.push(`sms.gateway.headers: "${name}" is not a valid header name`);
    if (/[\r\n]/.test(value)) problems.push(`sms.gateway.headers: ${name} holds a line break`);
    if (placeholdersIn(value).includes('msg')) problems.push(`sms.gateway.headers: ${name} uses $ctx.msg, but the message has line breaks and cannot go in a header`);
  }
  if (template.method === 'GET' && (template.json !== undefined || (template.form?.length ?? 0) > 0)) {
    problems.push('sms.gateway.payload: a GET request has no body; put the placeholders in the URL');
  }
  let json: unknown;
  const secrets = [...template.secrets];
  if (template.json !== undefined) {
    try {
      json = JSON.parse(template.json);
      jsonSecrets(json, secrets);
    } catch {
      problems.push('sms.gateway.payload: a JSON payload must be valid JSON, with each placeholder inside a string ("$ctx.msg")');
    }
  }
  if (problems.length) throw new GatewayConfigError(problems);

  const resolved = { ...template, secrets };
  return {
    template: resolved,
    build(values) {
      const headers: Record<string, string> = {};
      for (const [name, value] of template.headers) {
        const filled = fill(value, values, raw);
        // A number or code never holds a line break; refuse anyway rather than split a header.
        if (/[\r\n]/.test(filled)) throw new Error(`header ${name} would hold a line break`);
        headers[name] = filled;
      }
      let body: string | undefined;
      if (template.method !== 'GET') {
        if (json !== undefined) body = JSON.stringify(mapStrings(json, (s) => fill(s, values, raw)));
        else if (template.form) {
          const params = new URLSearchParams();
          for (const [key, value] of template.form) params.append(fill(key, values, raw), fill(value, values, raw));
          body = params.toString();
        }
      }
      return { method: template.method, url: fill(template.url, values, encodeURIComponent), headers, ...(body !== undefined ? { body } : {}) };
    },
  };
}

/** The request with every configured secret replaced, for `keystep sms test --dry-run`. */
export function redactRequest(request: GatewayRequest, secrets: readonly string[]): GatewayRequest {
  const forms = (s: string) => [s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2), JSON.stringify(s).slice(1, -1)];
  const hide = (text: string) => secrets.flatMap(forms).filter(Boolean).reduce((t, s) => t.split(s).join('[redacted]'), text);
  // A secret header keeps its scheme ("Basic", "Bearer") so the dry run still shows its shape.
  const masked = (v: string) => (/^\S+ \S/.test(v) ? `${v.split(' ')[0]} [redacted]` : '[redacted]');
  const headers = Object.fromEntries(Object.entries(request.headers).map(([n, v]) => [n, looksSecret(n) ? masked(v) : hide(v)]));
  return { ...request, url: hide(request.url), headers, ...(request.body !== undefined ? { body: hide(request.body) } : {}) };
}
