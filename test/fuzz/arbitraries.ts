import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { RawRequest } from '../support/raw-http.ts';

/**
 * A value on the wire: text (percent-encoded as WTF-8, so a lone surrogate becomes bytes that are
 * not UTF-8), bytes as they are (`raw`) or percent-encoded, or a reference to something only the
 * running test knows (the CSRF token of its login, a real code), filled in when the request is sent.
 */
export type Value = string | { ref: string } | { bytes: readonly number[]; raw: boolean };
export type Pair = readonly [key: string, value: Value];
export type Refs = Readonly<Record<string, string>>;

export const ref = (name: string): Value => ({ ref: name });

/** Strings that have broken parsers, databases and templates before. */
const notorious = fc.constantFrom(
  '', ' ', '\u0000', 'a\u0000b', '\uD800', '\uDFFF', 'x\uD83D', '\uDE00y', '\u202E', '\uFEFF', '\r\n', '%', '%zz', '%00', '+', '&', '=',
  '[]', '{}', '__proto__', 'constructor', 'null', 'undefined', '-1', '0', '1e308', 'true', '[object Object]', '<script>x</script>', "'\"`",
  '../../etc/passwd', 'a'.repeat(255) + '\u{1F600}', 'é'.repeat(200), '\u{1F600}'.repeat(129), '9'.repeat(40),
);
const invalidUtf8 = fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x00]);

/** Any text a request may carry: notorious strings, any code point, lone surrogates, long runs. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: notorious },
  // NUL, which Postgres text cannot hold, anywhere in a value.
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))), { maxLength: 8 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '\u{1F600}', '%00'), fc.integer({ min: 200, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
  // Around the lengths columns and checks are cut at, ending in a character of two UTF-16 units.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(31, 32, 63, 64, 127, 128, 255, 256), fc.constantFrom('\u{1F600}', '\u{10FFFF}', 'é')).map(([n, c]) => 'a'.repeat(n) + c) },
);

/** A value: usually one of `known` (a right value, or a reference), otherwise anything. */
export function value(...known: Value[]): fc.Arbitrary<Value> {
  const anything = fc.oneof(
    { weight: 6, arbitrary: text },
    { weight: 1, arbitrary: invalidUtf8.chain((bytes) => fc.boolean().map((raw) => ({ bytes, raw }))) },
  );
  return known.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: anything }) : anything;
}

export type Fields = Record<string, fc.Arbitrary<Value>>;

/**
 * Form or query pairs: each named field at most once with its own values (so real forms happen;
 * the fields in `always` are always there), then noise: repeated fields, `a[]`, `a[b]`, `a[0]`,
 * prototype names, random names.
 */
export function pairs(fields: Fields, always: readonly string[] = []): fc.Arbitrary<Pair[]> {
  const names = Object.keys(fields);
  const own = fc.record(Object.fromEntries(names.map((n) => [n, fields[n]!])), { requiredKeys: always.filter((n) => names.includes(n)) })
    .map((record) => Object.entries(record).map(([k, v]) => [k, v] as Pair));
  const name = names.length ? fc.constantFrom(...names) : fc.constant('x');
  const noisyKey = fc.oneof(
    name,
    name.map((n) => `${n}[]`),
    fc.tuple(name, fc.constantFrom('a', '0', '', '__proto__', 'b][c')).map(([n, k]) => `${n}[${k}]`),
    fc.constantFrom('__proto__', 'constructor', 'prototype', '__proto__[x]', 'hasOwnProperty', '', '[]', '=', '&'),
    text,
  );
  // Mostly none: one bad pair is enough to refuse a form, and the fields' own values need reaching too.
  const noise = fc.oneof(
    { weight: 2, arbitrary: fc.constant<Pair[]>([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(noisyKey, value()).map(([k, v]) => [k, v] as Pair), { minLength: 1, maxLength: 4 }) },
  );
  return fc.tuple(own, noise, fc.boolean()).map(([mine, extra, noiseFirst]) => (noiseFirst ? [...extra, ...mine] : [...mine, ...extra]));
}

function resolve(value: Value, refs: Refs): Buffer {
  if (typeof value === 'string') return Buffer.from(percentEncode(value), 'latin1');
  if ('ref' in value) return Buffer.from(percentEncode(refs[value.ref] ?? ''), 'latin1');
  return value.raw ? Buffer.from(value.bytes) : Buffer.from(value.bytes.map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''), 'latin1');
}

/** Percent-encoding of WTF-8: like encodeURIComponent, but a lone surrogate is encoded, not refused. */
export function percentEncode(text: string): string {
  let out = '';
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    if (/[A-Za-z0-9\-_.~]/.test(char)) out += char;
    else for (const byte of wtf8(cp)) out += `%${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

function wtf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** `a=1&b=2`, with keys' brackets left as they are (that is how forms send them). */
export function encodePairs(list: readonly Pair[], refs: Refs): Buffer {
  const parts = list.map(([k, v]) => Buffer.concat([Buffer.from(percentEncode(k).replace(/%5B/g, '[').replace(/%5D/g, ']'), 'latin1'), Buffer.from('='), resolve(v, refs)]));
  return Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('&'), p] : [p])));
}

/** How a body is framed: its Content-Type, its Content-Encoding, and whether it is really gzipped. */
export interface Framing {
  contentType: string | undefined;
  contentEncoding: string | undefined;
  gzip: boolean;
  /** Bytes instead of the form: random, or JSON of it. */
  replace: 'no' | 'random' | 'json';
  randomBytes: Uint8Array;
}

const FORM = 'application/x-www-form-urlencoded';
const plainFraming: Framing = { contentType: FORM, contentEncoding: undefined, gzip: false, replace: 'no', randomBytes: new Uint8Array() };

export const framing: fc.Arbitrary<Framing> = fc.record({
  contentType: fc.oneof(
    { weight: 16, arbitrary: fc.constant(FORM) },
    { weight: 4, arbitrary: fc.constantFrom(
      undefined, `${FORM}; charset=utf-8`, `${FORM}; charset=latin1`, `${FORM}; charset=utf-16`, `${FORM}; charset=bogus`, `${FORM};;;`,
      'APPLICATION/X-WWW-FORM-URLENCODED', 'application/json', 'multipart/form-data; boundary=x', 'text/plain', '', '*/*', 'application/x-www-form-urlencoded, text/plain',
      `${FORM}; charset="${'x'.repeat(300)}"`, 'text/html; charset=utf-8',
    ) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  ),
  contentEncoding: fc.oneof({ weight: 16, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'gzip, gzip', 'x-unknown', 'GZIP', 'zstd', '') }),
  gzip: fc.boolean(),
  replace: fc.oneof({ weight: 16, arbitrary: fc.constant('no' as const) }, { weight: 1, arbitrary: fc.constantFrom('random' as const, 'json' as const) }),
  randomBytes: fc.uint8Array({ maxLength: 64 }),
}).map((f) => ({ ...f, gzip: f.gzip && f.contentEncoding !== undefined }));

const commonMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
/**
 * The methods a browser, a scanner or a WebDAV client may send (CONNECT needs a proxy, so not
 * here). Only the routes' own property sends the unusual ones, so that one defect fails one property.
 */
export const anyMethod = fc.constantFrom(...commonMethods, 'TRACE', 'PROPFIND', 'MKCOL', 'LINK', 'UNLINK', 'PURGE', 'SEARCH', 'LOCK', 'COPY', 'REPORT');
/** Mostly the method a form uses, sometimes another common one. */
export const mostlyPost = fc.oneof({ weight: 10, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom(...commonMethods) });
export const mostlyGet = fc.oneof({ weight: 6, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom(...commonMethods) });

export const accept = fc.constantFrom(undefined, 'text/html', 'application/json', '*/*', 'application/json, text/html;q=0.1', 'image/png', '', 'text/html;q=0');

/** A request against one route: method, query, body and the headers around them. */
export interface FuzzRequest {
  method: string;
  /** Headers this route reads (Authorization, say), each mostly right. */
  headers: Partial<Record<string, Value>>;
  query: Pair[];
  form: Pair[];
  framing: Framing;
  accept: string | undefined;
  extraHeaders: Record<string, string>;
}

export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record({
  origin: fc.constantFrom('http://evil.example', 'null', ''),
  'x-forwarded-for': fc.constantFrom('1.2.3.4', 'not-an-ip', '::1, 10.0.0.1', ''),
  'accept-language': fc.constantFrom('de', '*', 'x'.repeat(500), ';;;'),
  authorization: fc.constantFrom('Basic', 'Basic !!!', 'Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`, 'Negotiate x'),
}, { requiredKeys: [] });

// A request line longer than Node's header limit (16 KiB) is cut off before Keystep sees it.
const shortened = (list: Pair[]): Pair[] => list.map(([k, v]) => [k.slice(0, 1000), typeof v === 'string' ? v.slice(0, 1000) : v]);

/**
 * A form or query that is right but for one or two of its fields: one of the `valid` ones with up
 * to two of `fields` replaced or added (pairs(fields) gets several fields wrong at once, so it
 * rarely gets past the first check: these reach the states behind it).
 */
export function nearlyValid(valid: Record<string, Value> | Record<string, Value>[], fields: Fields): fc.Arbitrary<Pair[]> {
  const names = Object.keys(fields);
  const change = fc.constantFrom(...names).chain((name) => fields[name]!.map((v) => [name, v] as Pair));
  return fc.tuple(fc.constantFrom(...[valid].flat()), fc.array(change, { maxLength: 2 })).map(([base, changes]) => {
    const changed = new Set(changes.map(([k]) => k));
    return [...Object.entries(base).filter(([k]) => !changed.has(k)), ...changes];
  });
}

/**
 * A request: `form` and `query` as fields (any of them, each mostly right) or as pairs already made
 * (nearlyValid); the framing is mostly a plain form, or anything.
 */
export function request(options: { method?: fc.Arbitrary<string>; query?: Fields | fc.Arbitrary<Pair[]>; form?: Fields | fc.Arbitrary<Pair[]>; always?: string[]; headers?: Fields }): fc.Arbitrary<FuzzRequest> {
  const query = options.query instanceof fc.Arbitrary ? options.query : options.query ? pairs(options.query) : undefined;
  const form = options.form instanceof fc.Arbitrary ? options.form : pairs(options.form ?? {}, options.always);
  return fc.record({
    method: options.method ?? mostlyPost,
    headers: fc.record(options.headers ?? {}, { requiredKeys: [] }),
    query: (query ?? fc.oneof({ weight: 4, arbitrary: fc.constant<Pair[]>([]) }, { weight: 1, arbitrary: pairs({}) })).map(shortened),
    form,
    framing: fc.oneof({ weight: 2, arbitrary: fc.constant(plainFraming) }, { weight: 1, arbitrary: framing }),
    accept,
    extraHeaders: fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
  });
}

/** A well-formed form post of exactly these fields (and headers). */
export function plainForm(form: Record<string, Value>, headers: Record<string, string> = {}): FuzzRequest {
  return { method: 'POST', headers, query: [], form: Object.entries(form), framing: plainFraming, accept: 'text/html', extraHeaders: {} };
}

/** A plain GET with these headers. */
export function plainGet(headers: Record<string, string> = {}): FuzzRequest {
  return { ...plainForm({}, headers), method: 'GET' };
}

/** As a header can carry it: bytes as Latin-1, no line breaks or NUL (Node refuses to send those). */
function headerValue(value: Value, refs: Refs): string {
  const text = typeof value === 'string' ? Buffer.from(value).toString('latin1') : 'ref' in value ? refs[value.ref] ?? '' : Buffer.from(value.bytes).toString('latin1');
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '').slice(0, 4000);
}

/** The bytes and headers of a request at `path`, with the test's references and cookies filled in. */
export function toRaw(req: FuzzRequest, path: string, refs: Refs = {}, headers: Record<string, string> = {}): RawRequest {
  // Node's parser answers 400 itself to a request line with raw bytes outside ASCII: percent-encoded
  // they reach Keystep, as invalid UTF-8.
  const line = encodePairs(req.query, refs).toString('latin1').replace(/[^\u0021-\u007e]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const query = req.query.length ? `${path.includes('?') ? '&' : '?'}${line}` : '';
  const own = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, Value] => e[1] !== undefined).map(([k, v]) => [k, headerValue(v, refs)]));
  const out: Record<string, string> = { ...req.extraHeaders, ...own, ...headers };
  if (req.accept !== undefined) out.accept = req.accept;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let body: Buffer | undefined;
  if (hasBody) {
    const f = req.framing;
    body = f.replace === 'random' ? Buffer.from(f.randomBytes)
      : f.replace === 'json' ? Buffer.from(JSON.stringify(Object.fromEntries(req.form.map(([k, v]) => [k, typeof v === 'string' ? v : 'ref' in v ? refs[v.ref] : v.bytes]))))
        : encodePairs(req.form, refs);
    if (f.gzip) body = gzipSync(body);
    if (f.contentType !== undefined) out['content-type'] = f.contentType;
    if (f.contentEncoding !== undefined) out['content-encoding'] = f.contentEncoding;
  }
  return { method: req.method, path: `${path}${query}`, headers: out, body };
}

/**
 * Every parameter of an authorization request, each mostly with a value that makes the request
 * go through (so that the ones after it are reached), sometimes with any other.
 */
export function authorizationFields(valid: { clientId: string; redirectUri: string; codeChallenge: string }): Fields {
  return {
    client_id: value(valid.clientId, valid.clientId, valid.clientId, 'keystep-account', 'no-such-client'),
    redirect_uri: value(valid.redirectUri, valid.redirectUri, valid.redirectUri, 'http://127.0.0.1:9/elsewhere', 'javascript:alert(1)'),
    response_type: value('code', 'code', 'code', 'token', 'id_token', 'code id_token', 'none'),
    scope: value('openid', 'openid profile', 'openid offline_access', 'openid phone profile', 'profile', 'openid openid', 'openid unknown'),
    state: value('a-state', ''),
    nonce: value('a-nonce'),
    prompt: value('login', 'consent', 'none', 'select_account', 'login consent', 'create', 'none login'),
    max_age: value('0', '1', '-1', '99999999999999999999', '1.5', '3600'),
    login_hint: value('someone', 'someone@example.com'),
    id_token_hint: value(ref('idToken'), 'eyJhbGciOiJub25lIn0.e30.', 'a.b.c'),
    claims: value('{"id_token":{"acr":{"essential":true,"values":["urn:keystep:acr:mfa"]}}}', '{"userinfo":{"phone_number":null}}', '{', '[]', 'null', '{"id_token":{"amr":{"value":"x"}}}', '{"userinfo":{"x\\ud800":{"value":"\\u0000"}}}'),
    acr_values: value('urn:keystep:acr:mfa', 'urn:keystep:acr:pwd', 'urn:keystep:acr:mfa urn:keystep:acr:pwd'),
    ui_locales: value('en', 'de fr', '*'),
    request: value('eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJ3ZWItYXBwIn0.', 'not-a-jwt'),
    request_uri: value('urn:ietf:params:oauth:request_uri:abc', 'http://127.0.0.1:9/request-object'),
    code_challenge: value(valid.codeChallenge, valid.codeChallenge, valid.codeChallenge, 'short', 'x'.repeat(129)),
    code_challenge_method: value('S256', 'S256', 'S256', 'plain', 's256'),
    response_mode: value('query', 'fragment', 'form_post', 'jwt', 'web_message'),
    resource: value('http://127.0.0.1:9/api', 'urn:x'),
    display: value('page', 'popup', 'wap'),
  };
}
