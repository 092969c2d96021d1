import { CookieJar } from 'tough-cookie';

export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

export type Visit = { page: Page; callback?: undefined } | { callback: string; page?: undefined };

export interface RequestInit {
  method?: string;
  body?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Manual redirects and urlencoded forms over any cookie jar (the tests' and the benchmark's). */
export abstract class RedirectingBrowser {
  readonly stopAt: string;

  constructor(stopAt: string) {
    this.stopAt = stopAt;
  }

  abstract request(url: string, init?: RequestInit): Promise<Response>;

  /** GETs url and follows redirects until a page, or until the relying party's callback. */
  async visit(url: string): Promise<Visit> {
    let current = url;
    for (let hops = 0; hops < 10; hops++) {
      if (current.startsWith(this.stopAt)) return { callback: current };
      const response = await this.request(current);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        current = new URL(location, current).toString();
        continue;
      }
      return { page: { url: current, status: response.status, html: await response.text(), headers: response.headers } };
    }
    throw new Error('too many redirects');
  }

  /** POSTs a form and follows the 303 like a browser does. */
  async submit(url: string, form: Record<string, string>): Promise<Visit & { postStatus: number }> {
    const response = await this.request(url, { method: 'POST', body: new URLSearchParams(form).toString(), contentType: 'application/x-www-form-urlencoded' });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      return { ...(await this.visit(new URL(location, url).toString())), postStatus: response.status };
    }
    return { page: { url, status: response.status, html: await response.text(), headers: response.headers }, postStatus: response.status };
  }
}

/** Just enough of a browser: a cookie jar that honours paths (tough-cookie), manual redirects, forms. */
export class Browser extends RedirectingBrowser {
  readonly jar = new CookieJar();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    if (init.contentType) headers['content-type'] = init.contentType;
    const response = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url);
    return response;
  }
}

export function hiddenValue(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html) ?? new RegExp(`value="([^"]*)" name="${name}"`).exec(html);
  if (!match) throw new Error(`no field ${name} in page`);
  return match[1]!.replace(/&amp;/g, '&');
}

export function formAction(html: string, index = 0): string {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => m[1]!);
  const action = actions[index];
  if (!action) throw new Error('no form in page');
  return action;
}

/** The text of the message (an alert or a status) on a page, if any. */
export function alertText(html: string): string | undefined {
  const match = /role="(?:alert|status)"[^>]*>([^<]*)</.exec(html);
  return match?.[1]?.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
