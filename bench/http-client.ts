// A light "browser" for the load generator: a path-aware cookie jar, manual redirects and urlencoded
// forms. Lighter than test/support/browser.ts (tough-cookie), so the load generator stays cheap.
import { messages } from '../src/login/messages.ts';
import { factorModules } from '../src/login/registry.ts';

/** Every message code a page can show: the chain's and each factor's. */
export type MessageCode = string;
const allMessages: Record<string, string> = Object.assign({}, messages, ...factorModules.map((m) => m.messages));
import { alertText, formAction, hiddenValue, RedirectingBrowser, type Page, type RequestInit, type Visit } from '../test/support/browser.ts';

export { alertText, formAction, hiddenValue, type Page, type Visit };

interface Cookie {
  name: string;
  value: string;
  path: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function defaultPath(url: URL): string {
  const p = url.pathname;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export class BenchBrowser extends RedirectingBrowser {
  #cookies = new Map<string, Cookie>();
  /** The client address this browser claims (Keystep believes it from a trusted proxy: the benchmark's own address). */
  forwardedFor: string | undefined;

  #store(setCookie: string, url: URL): void {
    const [pair = '', ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let cookiePath = defaultPath(url);
    let expired = false;
    for (const attribute of attributes) {
      const [k = '', v = ''] = attribute.split('=').map((s) => s.trim());
      const key = k.toLowerCase();
      if (key === 'path' && v.startsWith('/')) cookiePath = v;
      else if (key === 'max-age' && Number(v) <= 0) expired = true;
      else if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
    }
    const id = `${name};${cookiePath}`;
    if (expired || value === '') this.#cookies.delete(id);
    else this.#cookies.set(id, { name, value, path: cookiePath });
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookies = [...this.#cookies.values()].filter((c) => pathMatches(target.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length).map((c) => `${c.name}=${c.value}`);
    if (cookies.length) headers.cookie = cookies.join('; ');
    if (init.contentType) headers['content-type'] = init.contentType;
    if (this.forwardedFor) headers['x-forwarded-for'] = this.forwardedFor;
    const response = await fetch(target, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    for (const setCookie of response.headers.getSetCookie()) this.#store(setCookie, target);
    return response;
  }
}

export function pageOf(visit: Visit, expected: string): Page {
  if (!visit.page) throw new Error(`expected the ${expected}, got a redirect to ${visit.callback.slice(0, 200)}`);
  if (visit.page.status !== 200) throw new Error(`expected the ${expected}, got HTTP ${visit.page.status}: ${alertText(visit.page.html) ?? visit.page.html.slice(0, 200)}`);
  return visit.page;
}

export function callbackOf(visit: Visit): string {
  if (visit.callback === undefined) throw new Error(`expected the callback, got a page (${visit.page.status}): ${alertText(visit.page.html) ?? visit.page.html.slice(0, 200)}`);
  return visit.callback;
}

/** The form URL of a page, absolute. */
export function actionOf(page: Page, index = 0): string {
  return new URL(formAction(page.html, index), page.url).toString();
}

/** The literal parts of an ICU message around its arguments (`{name}`, `{n, plural, …}`), nested braces and all. */
function literalParts(text: string): string[] {
  const parts = [''];
  let depth = 0;
  for (const ch of text) {
    if (ch === '{' && depth++ === 0) continue;
    if (ch === '}' && depth > 0 && --depth === 0) { parts.push(''); continue; }
    if (depth === 0) parts[parts.length - 1] += ch;
  }
  return parts;
}

const matchers = Object.entries(allMessages).map(([code, text]) => {
  const pattern = literalParts(text).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?');
  return { code, re: new RegExp(`^${pattern}$`, 's') };
});

/** The message code of the alert or status on a page (matched against src/login/messages.ts). */
export function messageOf(page: Page): MessageCode | 'none' | 'unknown' {
  const text = alertText(page.html);
  if (text === undefined) return 'none';
  return matchers.find((m) => m.re.test(text))?.code ?? 'unknown';
}
