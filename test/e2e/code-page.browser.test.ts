import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/chromium.ts';
import { authorizationRequest, relyingParty, type RelyingParty } from '../support/rp.ts';
import { distinctCodes, RecordingSender, TestClock, wrongCode } from '../support/sms.ts';

const PHONE = '+447400123456';
const START = new Date('2030-01-01T09:00:00Z');

/** WCAG 2 contrast ratio of two opaque sRGB colours. */
function contrast(a: number[], b: number[]): number {
  const luminance = (rgb: number[]) => rgb
    .map((v) => v / 255)
    .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0);
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

/**
 * The colours Chromium renders for an element's text and for what lies behind it (the nearest
 * ancestor with a background), the text's alpha blended over that background.
 */
async function renderedColours(page: Page, selector: string): Promise<{ text: number[]; background: number[] }> {
  return page.locator(selector).first().evaluate((element) => {
    const rgba = (css: string) => {
      const match = /^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/.exec(css);
      if (!match) throw new Error(`unexpected colour ${css}`);
      return { rgb: [Number(match[1]), Number(match[2]), Number(match[3])], alpha: match[4] === undefined ? 1 : Number(match[4]) };
    };
    let behind: Element | null = element;
    let background = rgba(getComputedStyle(element).backgroundColor);
    while (background.alpha === 0 && behind.parentElement) {
      behind = behind.parentElement;
      background = rgba(getComputedStyle(behind).backgroundColor);
    }
    if (background.alpha !== 1) throw new Error(`no opaque background behind ${element.outerHTML}`);
    const text = rgba(getComputedStyle(element).color);
    return { text: text.rgb.map((c, i) => c * text.alpha + background.rgb[i]! * (1 - text.alpha)), background: background.rgb };
  });
}

// The code page in Chromium with the clock held still (playwright's clock): the resend countdown is
// checked second by second without waiting, and the colours as the browser renders them.
describe('the code page in Chromium', () => {
  let t: TestApp;
  let rp: RelyingParty;
  let chromium: Browser;
  let page: Page;
  const sms = new RecordingSender();
  const clock = new TestClock();
  let problems: string[] = [];
  let users = 0;

  beforeAll(async () => {
    chromium = await launchChromium();
    t = await startTestApp({ smsSender: sms, clock, random: distinctCodes(), overrides: { smsOtp: { resendCooldownSeconds: 30 } } });
    rp = await relyingParty(t, await t.addClient('web-app'));
  });
  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });
  afterEach(async () => {
    await page.context().close();
  });

  async function openPage(colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
    page = await (await chromium.newContext({ colorScheme })).newPage();
    problems = [];
    // A refused script (CSP or integrity) and a script that throws show up only here. Keystep has
    // no icon, and Chromium asks for one.
    page.on('console', (m) => {
      if (new URL(m.location().url || 'about:blank').pathname === '/favicon.ico') return;
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
    // The clock runs from install to pause: a pause a minute on is never in its past.
    await page.clock.install({ time: START });
    await page.clock.pauseAt(START.getTime() + 60_000);
  }

  /** Signs a new user in up to the code page, freshly loaded. */
  async function codePage(): Promise<void> {
    const name = `user${++users}`;
    await t.addUser(name, `${name}-long-password`, PHONE);
    await page.goto((await authorizationRequest(rp)).url.toString());
    await page.fill('#username', name);
    await page.fill('#password', `${name}-long-password`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('#code');
    await page.waitForLoadState('load');
  }

  const resend = () => page.getByRole('button', { name: 'Send a new code' });
  const hint = () => page.locator('#resend-wait');
  const announced = () => page.locator('[role="status"]');

  beforeEach(() => {
    // Every case starts with fresh budgets.
    clock.advance(7200);
  });

  it('counts the wait down second by second and enables the button when it is over', async () => {
    await openPage();
    await codePage();
    expect(await resend().isDisabled()).toBe(true);
    expect(await hint().textContent()).toBe('You can ask for a new code in 30 seconds.');
    expect(await announced().count()).toBe(1);
    expect(await announced().textContent()).toBe('');

    await page.clock.runFor(1000);
    expect(await hint().textContent()).toBe('You can ask for a new code in 29 seconds.');
    await page.clock.runFor(28_000);
    expect(await hint().textContent()).toBe('You can ask for a new code in 1 second.');
    expect(await resend().isDisabled()).toBe(true);
    // Nothing was announced while counting.
    expect(await announced().textContent()).toBe('');

    await page.clock.runFor(1000);
    expect(await resend().isEnabled()).toBe(true);
    expect(await hint().count()).toBe(0);
    expect(await announced().textContent()).toBe('You can ask for a new code now.');

    // The server agrees: the resend goes out, and the next wait (doubled) starts disabled again.
    clock.advance(30);
    const sent = sms.to(PHONE).length;
    await resend().click();
    await page.waitForSelector('#form-message');
    await page.waitForLoadState('load');
    expect(await page.textContent('#form-message')).toMatch(/We sent a new code/);
    expect(sms.to(PHONE)).toHaveLength(sent + 1);
    expect(await resend().isDisabled()).toBe(true);
    expect(await hint().textContent()).toBe('You can ask for a new code in 60 seconds.');
    expect(problems).toEqual([]);
  });

  it('with no wait left the button is enabled from the start, and stays so', async () => {
    await openPage();
    await codePage();
    clock.advance(30);
    await page.reload();
    await page.waitForLoadState('load');
    expect(await resend().isEnabled()).toBe(true);
    expect(await hint().count()).toBe(0);
    await page.clock.runFor(5000);
    expect(await resend().isEnabled()).toBe(true);
    expect(await announced().count()).toBe(0);
    expect(problems).toEqual([]);
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme} colours: every text on the code page has at least 4.5:1 against its background`, async () => {
      await openPage(scheme);
      await codePage();
      const measured: Record<string, number> = {};
      const measure = async (...selectors: string[]) => {
        for (const selector of selectors) {
          const { text, background } = await renderedColours(page, selector);
          measured[selector] = Math.round(contrast(text, background) * 100) / 100;
        }
      };
      await measure('.service', 'h1', '.lead', 'label', '#code-hint', '#resend-wait', 'button.primary', 'form.secondary:last-of-type button.link');
      // An error, and then a notice.
      await page.fill('#code', wrongCode(sms.lastCode(PHONE)));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForSelector('.message.error');
      await measure('.message.error');
      clock.advance(30);
      await page.clock.runFor(30_000);
      await resend().click({ timeout: 5000 });
      await page.waitForSelector('.message.info');
      await measure('.message.info');
      expect(problems).toEqual([]);
      // The error page's detail line (the page comes with a 400, which Chromium logs).
      await page.goto(`${t.issuer}/interaction/unknown`);
      await measure('.detail');
      for (const [selector, ratio] of Object.entries(measured)) expect(ratio, `${selector}: ${JSON.stringify(measured)}`).toBeGreaterThanOrEqual(4.5);
    });
  }
});
