import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's headless Chromium, driven by playwright-core. The flags keep it from reaching the
 * internet; launch() gives it a fresh temporary profile (user-data-dir) each time. A machine without
 * it fails the test, saying how to install it: a browser test that skips proves nothing.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the browser tests need it. Install it with ` +
      '`sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` (.ci/run does this).');
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
