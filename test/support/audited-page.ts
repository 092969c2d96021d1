import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, CDPSession, Page, Response } from 'playwright-core';

/** axe-core's own build, evaluated over the DevTools protocol: the CSP refuses an injected `<script>`. */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.0 and 2.1, levels A and AA, and axe's best practices. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

export interface AuditedPageOptions {
  /** Keystep's origin: its pages are audited; the app's are not ours to check. */
  origin: string;
  /** The language the browser asks for (`Accept-Language` and `navigator.language`); every page must be in it. */
  language?: string;
  colorScheme?: 'light' | 'dark';
}

interface Violation {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: { target: string; html: string }[];
}

/**
 * A Chromium page whose every Keystep page is checked: axe-core (0 violations of AXE_TAGS), the
 * document's status, `<html lang>`, and, collected on the side, console errors, CSP refusals and
 * uncaught script errors. Navigation goes through `goto` and `navigate`, which wait for the new page
 * and audit it before the test goes on; a Keystep page that loads any other way is reported by
 * `assertClean`, so no page reached escapes the audit.
 */
export class AuditedPage {
  readonly page: Page;
  readonly origin: string;
  readonly language: string;
  /** Every Keystep page that loaded, and every one audited (paths, in order). */
  readonly loaded: string[] = [];
  readonly audited: string[] = [];
  readonly problems: string[] = [];
  #document: Response | undefined;
  #cdp: CDPSession | undefined;
  /** Chromium logs a document's own 4xx as an error: allowed for the pages the test expected as `status url`. */
  readonly #expectedFailures = new Set<string>();
  readonly #failedLoads: { status: string; at: string; text: string }[] = [];

  private constructor(page: Page, options: AuditedPageOptions) {
    this.page = page;
    this.origin = options.origin;
    this.language = options.language ?? 'en';
    // A step that goes wrong fails where it stopped, well before the test's own timeout.
    page.setDefaultTimeout(8000);
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) this.#document = response;
    });
    page.on('load', () => {
      if (this.#ours(page.url())) this.loaded.push(new URL(page.url()).pathname);
    });
    page.on('console', (message) => {
      const at = message.location().url || '';
      // Keystep has no icon, and Chromium asks for one.
      if (at && new URL(at).pathname === '/favicon.ico') return;
      const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
      if (failed) return void this.#failedLoads.push({ status: failed[1]!, at, text: message.text() });
      if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(message.text())) this.problems.push(`console ${message.type()} on ${at}: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.problems.push(`script error on ${page.url()}: ${error.message}`));
  }

  /** A page in a fresh context of its own (cookies, storage), asking for `language`. */
  static async open(browser: Browser, options: AuditedPageOptions): Promise<AuditedPage> {
    const context = await browser.newContext({ locale: options.language ?? 'en', colorScheme: options.colorScheme ?? 'light' });
    return new AuditedPage(await context.newPage(), options);
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }

  #ours(url: string): boolean {
    return url.startsWith('http') && new URL(url).origin === this.origin;
  }

  /** Opens a URL and audits the page it ends at. */
  async goto(url: string, expected: { status?: number } = {}): Promise<void> {
    await this.navigate(() => this.page.goto(url), expected);
  }

  /**
   * Runs an action that leads to another page (a click, Enter, a reload), waits until that page has
   * loaded, and audits it. `status` is the page's expected status (200 unless said).
   */
  async navigate(action: () => Promise<unknown>, expected: { status?: number } = {}): Promise<void> {
    const loaded = this.page.waitForEvent('load');
    loaded.catch(() => undefined);
    await action();
    await loaded;
    await this.#audit(expected.status ?? 200);
  }

  async #audit(status: number): Promise<void> {
    const url = this.page.url();
    if (!this.#ours(url)) return;
    const path = new URL(url).pathname;
    const actual = this.#document?.status();
    if (actual !== status) throw new Error(`${path} answered ${actual}, expected ${status}`);
    if (status >= 400) this.#expectedFailures.add(`${status} ${this.#document!.url()}`);
    const lang = await this.page.evaluate(() => document.documentElement.lang);
    if (lang.split('-')[0] !== this.language.split('-')[0]) throw new Error(`${path} is in "${lang}", the browser asked for "${this.language}"`);
    const violations = await this.#axe();
    this.audited.push(path);
    if (violations.length) {
      const lines = violations.flatMap((v) => [`${v.id} (${v.impact}): ${v.help}`, ...v.nodes.map((n) => `    ${n.target}  ${n.html}`)]);
      throw new Error(`axe found ${violations.length} violation(s) or undecided check(s) on ${path}:\n  ${lines.join('\n  ')}`);
    }
  }

  /**
   * axe in a world of its own (the DevTools protocol's isolated world): the page's CSP does not
   * govern it, the page's script cannot see it, and a test's fake clock (which pauses the page's own
   * timers) does not stop axe's.
   */
  async #axe(): Promise<Violation[]> {
    this.#cdp ??= await this.page.context().newCDPSession(this.page);
    const cdp = this.#cdp;
    const { frameTree } = await cdp.send('Page.getFrameTree');
    const { executionContextId: contextId } = await cdp.send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: 'keystep-axe' });
    const loaded = await cdp.send('Runtime.evaluate', { expression: axeSource, contextId });
    if (loaded.exceptionDetails) throw new Error(`axe-core did not load: ${loaded.exceptionDetails.text}`);
    // "Incomplete" is axe unable to decide (a contrast over an image, say): it fails too, since a
    // check that could not run must not pass unseen.
    const run = `axe.run(document, ${JSON.stringify({ runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations', 'incomplete'] })})
      .then((r) => [...r.violations.map((v) => ['', v]), ...r.incomplete.map((v) => ['undecided: ', v])].map(([kind, v]) =>
        ({ id: kind + v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html })) })))`;
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression: run, contextId, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(`axe-core failed: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as Violation[];
  }

  /** Fails on anything collected on the side, and on a Keystep page that loaded without an audit. */
  assertClean(): void {
    const missed = this.loaded.length !== this.audited.length || this.loaded.some((path, i) => path !== this.audited[i]);
    const failedLoads = this.#failedLoads.filter((f) => !this.#expectedFailures.has(`${f.status} ${f.at}`)).map((f) => `console error on ${f.at}: ${f.text}`);
    const failures = [...this.problems, ...failedLoads, ...(missed ? [`pages loaded ${JSON.stringify(this.loaded)} but audited ${JSON.stringify(this.audited)}: navigate through goto() or navigate()`] : [])];
    if (failures.length) throw new Error(failures.join('\n'));
  }
}

/** After a test: the page's checks (pages missed, console errors), then its context closed whatever they say. */
export async function finishAudited(audited: AuditedPage | undefined): Promise<void> {
  try {
    audited?.assertClean();
  } finally {
    await audited?.close();
  }
}
