/**
 * The dashboard in real headless Chromium (npm run e2e:browser): sign-in through a real OpenID
 * provider, an OpenStack credential against the simulator (tested), a catalogue template launched
 * from its metadata.tabs form with two inputs changed (after the page refused a bad one), the
 * infrastructure reaching `configured` with its contmsg arriving, a worker added, the elasticity
 * chart moving as the queue grows, a second person who sees none of it, delete, sign out; no
 * console error nor failed request. Screenshots go to docs/dashboard/.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describeWithChromium, launchChromium, type Chromium } from './chromium';
import { startProvider, type RunningProvider } from './oidc-provider';
import { startDashboardRig, type DashboardRig } from './server-fixture';

jest.setTimeout(60_000);

const SHOTS = path.join(__dirname, '..', '..', 'docs', 'dashboard');
const UBUNTU = 'ost://127.0.0.1/0c1d2e3f-1111-4a2b-8c3d-000000000002';

/** The viewport (or one part of the page) as docs/dashboard/NAME.png. */
async function shot(page: Page, name: string, part?: Locator): Promise<void> {
  const file = path.join(SHOTS, `${name}.png`);
  await (part ?? page).screenshot({ path: file, scale: 'css' });
  expect(statSync(file).size).toBeLessThan(150 * 1024);
}

async function signIn(page: Page, url: string, login: string): Promise<void> {
  await page.goto(`${url}/dashboard/`);
  await page.getByRole('button', { name: /Sign in with 127\.0\.0\.1/ }).click();
  try {
    // The provider's own pages: its sign-in form, then its consent.
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${url}/dashboard/`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nat ${page.url()}:\n${(await page.locator('body').textContent())?.slice(0, 500)}`);
  }
  expect((await page.locator('nav .who').textContent())?.trim()).toBe(login);
}

/* Functions run in the page (playwright sends them over CDP, which the pages' CSP allows; strings would be
 * eval). The page's document, typed here only for them (this file's program has no DOM library). */
declare const document: { querySelector(s: string): { textContent: string | null; getAttribute(a: string): string | null } | null; querySelectorAll(s: string): { length: number } };
/** Names of the visible form fields of the page that have no label (run in the page). */
function unlabelled(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fields = Array.from((globalThis as any).document.querySelectorAll('input:not([type=hidden]), select, textarea')) as any[];
  return fields.filter((f) => f.labels.length === 0 && !f.getAttribute('aria-label')).map((f) => f.name);
}
/** Waits until the element's text matches (playwright's web-first assertions live in @playwright/test). */
const expectText = (page: Page, sel: string, re: RegExp, ms = 15_000) =>
  page.waitForFunction(([s, src]) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''), [sel, re.source] as const, { timeout: ms });
/** Waits until the page has at least `n` VM rows. */
const vmRowsAtLeast = (page: Page, n: number) =>
  page.waitForFunction((k) => document.querySelectorAll('#vm-rows tr').length >= k, n, { timeout: 20_000 });

describeWithChromium('dashboard in headless Chromium (OIDC, OpenStack simulator, engine, elasticity)', () => {
  let dir: string;
  let provider: RunningProvider | undefined;
  let rig: DashboardRig;
  let chrome: Chromium;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tosca-im-dashboard-'));
    rig = await startDashboardRig(dir, async (redirectUri) => (provider = await startProvider(redirectUri)));
    chrome = await launchChromium();
  });

  afterAll(async () => {
    await chrome?.close();
    await rig?.close();
    await provider?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sign in, credential, launch from tabs, watch, grow, share nothing, delete, sign out', async () => {
    const alice = await chrome.person();
    const page = await alice.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${rig.url}/dashboard/infrastructures`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await shot(page, 'sign-in');
    await signIn(page, rig.url, 'alice');

    // A credential for the simulator, tested through the connector (Glance lists its images).
    await page.getByRole('link', { name: 'Cloud credentials' }).click();
    await page.getByRole('link', { name: 'Add OpenStack' }).click();
    await page.getByLabel('Name', { exact: true }).fill('sim');
    await page.getByLabel('host').fill(rig.sim.authUrl);
    await page.getByLabel('username').fill('demo');
    await page.getByLabel('password').fill('secret');
    await page.getByLabel('tenant').fill('demo');
    await page.getByLabel('domain').fill('Default');
    await page.getByLabel('auth version').fill('3.x_password');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /sim/ }).getByRole('button', { name: 'Test' }).click();
    await expectText(page, '.flash', /"sim" works: the cloud lists 2 image\(s\)/);
    await shot(page, 'credentials');
    // The secret is never shown back: the edit form leaves it empty, and keeps it when saved so.
    await page.getByRole('row', { name: /sim/ }).getByRole('link', { name: 'Edit' }).click();
    expect(await page.getByLabel('password').inputValue()).toBe('');
    expect(await page.content()).not.toMatch(/value="secret"/);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /sim/ }).getByRole('button', { name: 'Test' }).click();
    await expectText(page, '.flash', /"sim" works/);

    // The catalogue: a card per template; the form's tabs come from metadata.tabs.
    await page.getByRole('link', { name: 'Catalogue' }).click();
    await shot(page, 'catalogue');
    await page.getByRole('link', { name: 'Configure Elastic batch cluster' }).click();
    const tabs = await page.getByRole('tab').allTextContents();
    expect(tabs).toEqual(['Cloud', 'Front-end', 'Workers', 'Elasticity']);
    // Keyboard: arrow keys move between tabs; every field has a label.
    await page.getByRole('tab', { name: 'Cloud' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Front-end' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByLabel('fe num cpus').isVisible()).toBe(true);
    expect(await page.evaluate(unlabelled)).toEqual([]);
    await page.getByRole('tab', { name: 'Cloud' }).click();
    await page.getByLabel('image').fill(UBUNTU);
    await page.getByRole('tab', { name: 'Elasticity' }).click();
    // The page refuses a value out of in_range [1, 600] before anything is sent.
    await page.getByLabel('check every s').fill('0');
    await page.getByRole('button', { name: 'Launch' }).click();
    await expectText(page, '#in-check_every_s-error', /\S/);
    expect(new URL(page.url()).pathname).toBe('/dashboard/catalogue/elastic-cluster.yaml');
    await page.getByLabel('check every s').fill('1');
    await shot(page, 'launch-form');
    await page.getByRole('button', { name: 'Launch' }).click();
    await page.waitForURL(/\/dashboard\/infrastructures\/[0-9a-f-]{36}$/);
    const infUrl = page.url();
    const infId = infUrl.split('/').pop()!;

    // Live: contmsg grows while the state moves on to configured.
    const seen = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      seen.add(((await page.locator('#contmsg').textContent()) ?? '').length);
      if ((await page.locator('#inf-state').textContent()) === 'configured') break;
      await page.waitForTimeout(150);
    }
    expect(await page.locator('#inf-state').textContent()).toBe('configured');
    expect([...seen].filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    await expectText(page, '#contmsg', /Contextualization finished successfully/);
    await expectText(page, '#vm-rows', /front/);
    await shot(page, 'infrastructure');

    // Add a worker by hand; then jobs wait and the manager adds more: the chart moves.
    await page.getByLabel('Node type').selectOption('wn');
    await page.getByRole('button', { name: 'Add nodes' }).click();
    await expectText(page, '.flash', /Adding 1 wn node/);
    await vmRowsAtLeast(page, 2);
    rig.queue.waiting = 3;
    await page.waitForFunction(() => Number(document.querySelector('#elastic-chart')?.getAttribute('data-max-nodes')) >= 2, null, { timeout: 20_000 });
    await vmRowsAtLeast(page, 3);
    expect(await page.locator('#elastic-chart polyline[data-series="queue"]').count()).toBe(1);
    expect(await page.locator('#elastic-events li').count()).toBeGreaterThan(0);
    await shot(page, 'elasticity', page.locator('section[aria-labelledby="el-h"]'));
    // A knob changed from the page is the manager's policy now.
    await page.getByLabel('max nodes').fill('4');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expectText(page, '.flash', /Policy saved/);
    expect(await page.getByLabel('max nodes').inputValue()).toBe('4');

    // The owner downloads the infrastructure's SSH key.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the SSH key' }).click()]);
    expect(readFileSync((await download.path())!, 'utf8')).toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);

    // Infrastructures list, at desktop and at phone width.
    await page.getByRole('link', { name: 'Infrastructures' }).click();
    await expectText(page, 'table.infras', /Elastic batch cluster/);
    await shot(page, 'infrastructures');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(infUrl);
    await shot(page, 'infrastructure-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    // A second person sees none of it: not in their lists, not by its address.
    const bobCtx = await chrome.person();
    const bob = await bobCtx.newPage();
    bob.setDefaultTimeout(10_000);
    await signIn(bob, rig.url, 'bob');
    await bob.getByRole('link', { name: 'Infrastructures' }).click();
    await expectText(bob, 'main', /No infrastructure yet/);
    await bob.getByRole('link', { name: 'Cloud credentials' }).click();
    await expectText(bob, 'main', /No cloud credential yet/);
    for (const p of ['', '/live', '/ssh-key', '/delete']) expect((await bob.request.get(`${infUrl}${p}`)).status()).toBe(404);
    await bobCtx.close();

    // Delete, with confirmation; the list empties.
    await page.goto(infUrl);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete it' }).click();
    await expectText(page, '.flash', new RegExp(`Deleting ${infId}`));
    const gone = Date.now() + 20_000;
    while (Date.now() < gone && (await page.locator(`tr[data-inf="${infId}"]`).count()) > 0) {
      await page.waitForTimeout(300);
      await page.reload();
    }
    expect(await page.locator(`tr[data-inf="${infId}"]`).count()).toBe(0);

    // Sign out: back to the sign-in page, and the pages are closed again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${rig.url}/dashboard/login`);
    await page.goto(`${rig.url}/dashboard/credentials`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');

    expect(chrome.problems).toEqual([]);
  });
});
