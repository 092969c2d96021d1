import type { Context, Middleware } from 'koa';
import { ownScripts } from './static-routes.ts';

const CSP = 'Content-Security-Policy';

// No script by default: `script-src` is there so the provider can add the hash of its own
// auto-submitting script (it amends only a policy that has the directive), and so the pages with a script of
// ours can add its hash (see allowOwnScripts). Forms go to Keystep only, unless the page's client is
// added (see allowFormTargets); no framing, no <base> tag.
const basePolicy = [
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Policy = Map<string, string[]>;

function parse(header: string): Policy {
  const policy: Policy = new Map();
  for (const directive of header.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name) policy.set(name.toLowerCase(), values);
  }
  return policy;
}

// 'none' counts only alone: next to a hash or an origin browsers ignore it, with a console warning.
function serialize(policy: Policy): string {
  return [...policy].map(([name, values]) => {
    const sources = values.length > 1 ? values.filter((v) => v !== "'none'") : values;
    return [name, ...sources].join(' ');
  }).join('; ');
}

function update(ctx: Context, change: (policy: Policy) => void): void {
  const policy = parse(String(ctx.response.get(CSP) ?? ''));
  change(policy);
  ctx.set(CSP, serialize(policy));
}

/** The CSP source for the address a redirect URI points at: its origin, or its private-use scheme. */
function sourceOf(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

/**
 * Lets this page's forms lead to the given addresses (a client's registered redirect URIs): browsers
 * check `form-action` also on the redirects that follow a submission, and a sign-in form's 303
 * chain ends at the client.
 */
export function allowFormTargets(ctx: Context, uris: readonly string[]): void {
  const sources = uris.map(sourceOf).filter((s) => s !== undefined);
  if (!sources.length) return;
  update(ctx, (policy) => {
    const current = policy.get('form-action') ?? ["'self'"];
    policy.set('form-action', [...new Set([...current, ...sources])]);
  });
}

/**
 * Allows each of Keystep's scripts on a page that loads it, by its hash rather than by 'self': the hash admits
 * these exact bytes only, where 'self' would admit any script-typed response Keystep ever serves,
 * and only on the pages that load it. Reading the page for the tag is safe even if text were
 * injected into it: the hash comes from the file, so nothing but that script can run.
 */
function allowOwnScripts(ctx: Context): void {
  if (!ctx.response.is('html') || typeof ctx.body !== 'string') return;
  const body = ctx.body;
  const loaded = ownScripts.filter((s) => body.includes(`<script src="${s.path}"`));
  if (!loaded.length) return;
  update(ctx, (policy) => {
    const current = policy.get('script-src') ?? [];
    policy.set('script-src', [...new Set([...current, ...loaded.map((s) => `'${s.hash}'`)])]);
  });
}

export interface SecurityHeaderOptions {
  /** Where the forms of a page the provider rendered itself may lead (its client's addresses). */
  providerFormTargets?(ctx: Context): Promise<readonly string[]>;
}

export function securityHeaders(options: SecurityHeaderOptions = {}): Middleware {
  return async (ctx, next) => {
    // Set before the provider runs: it reads this policy to add its script's hash.
    ctx.set(CSP, basePolicy);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (!ctx.path.startsWith('/static/')) ctx.set('Cache-Control', 'no-store');
    await next();
    if (options.providerFormTargets && ctx.response.is('html')) allowFormTargets(ctx, await options.providerFormTargets(ctx));
    allowOwnScripts(ctx);
    // Written again in our form only when the provider amended it (its hash next to 'none').
    if (ctx.response.get(CSP) !== basePolicy) update(ctx, () => {});
  };
}
