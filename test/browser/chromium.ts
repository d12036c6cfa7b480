/// <reference types="jest" />
/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download). describe() for
 * suites that need it: skipped loudly where /usr/bin/chromium is missing, failed under
 * TOSCA_IM_REQUIRE_ALL=1 (CI installs it). Every page's console errors and failed requests are kept
 * so the test can insist there were none.
 */
import { describeWithRealPart } from '../real-part';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function describeWithChromium(name: string, fn: () => void): void {
  describeWithRealPart(name, 'Chromium prerequisite', existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`, fn);
}

export interface Chromium {
  browser: Browser;
  /** A new person: a context of their own (cookies), problems recorded. */
  person(): Promise<BrowserContext>;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  // launch() starts Chromium headless on a fresh temporary --user-data-dir that it removes at close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      // Only this machine: a page that names any other host fails to resolve it (and the test sees it).
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  const problems: string[] = [];
  return {
    browser,
    problems,
    async person() {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
      ctx.on('page', (page) => watch(page));
      return ctx;
      function watch(page: import('playwright-core').Page) {
        page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} (${page.url()})`); });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('requestfailed', (r) => {
          // A navigation that replaces a page cancels its polling fetch and its favicon: not failures of the page.
          if (r.failure()?.errorText === 'net::ERR_ABORTED' && (r.resourceType() === 'fetch' || r.url().endsWith('/dashboard/assets/icon.svg'))) return;
          problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
        });
        page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      }
    },
    close: () => browser.close(),
  };
}
