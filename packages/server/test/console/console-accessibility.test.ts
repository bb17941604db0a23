import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  adminRequest,
  axeViolations,
  fetchToken,
  hasChromium,
  launchChromium,
  openConsolePage,
  openWatchedPage,
  signIn,
  startConsoleServer,
  type ConsoleServer,
  type WatchedPage,
} from '../helpers/console-browser.js';

/**
 * Every page of the console, with content on it, checked by axe-core (WCAG 2.1 A and AA, and its
 * best practices): no violation. Then the same pages at 200 % zoom (a 1280-pixel window at twice
 * the size: 640 CSS pixels) without sideways scrolling, and the sign-in and a dialog by keyboard.
 */
const isChromiumPresent = hasChromium();
const API = 'https://orders.example';
const PAGES = ['Overview', 'APIs', 'Clients', 'Grants', 'Signing keys', 'Audit log', 'Token inspector', 'Config as code'];

let server: ConsoleServer;
let browser: Browser;
let token: string;

beforeAll(async () => {
  if (!isChromiumPresent) return;
  server = await startConsoleServer();
  browser = await launchChromium();
  await adminRequest(server, 'POST', '/apis', { identifier: API, name: 'Orders', scopes: ['orders:read', 'orders:write'] });
  const billing = await adminRequest<{ client_id: string; client_secret: string }>(server, 'POST', '/clients', { name: 'billing-service' });
  const legacy = await adminRequest<{ client_id: string }>(server, 'POST', '/clients', { name: 'legacy-batch' });
  await adminRequest(server, 'PATCH', `/clients/${legacy.client_id}`, { enabled: false });
  await adminRequest(server, 'POST', '/grants', { client_id: billing.client_id, api: API, scopes: ['orders:read'] });
  await adminRequest(server, 'POST', '/keys/rotate', {});
  token = await fetchToken(server.url, billing.client_id, billing.client_secret, API);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits until the page's first content is in (no "Loading …" left). */
async function settle(page: Page) {
  await page.waitForLoadState('networkidle');
  await page.getByText(/^Loading /).waitFor({ state: 'detached' });
}

describe.skipIf(!isChromiumPresent)('accessibility', () => {
  let watched: WatchedPage;
  beforeAll(async () => {
    watched = await openWatchedPage(browser, new URL(server.url).origin);
  });
  afterAll(() => watched?.context.close());

  it('the sign-in page has no axe violation', async () => {
    await watched.page.goto(server.consoleUrl);
    await watched.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await axeViolations(watched.page)).toEqual([]);
  });

  it('a full admin is offered every page', async () => {
    await signIn(watched.page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
    expect(await watched.page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents()).toEqual(PAGES);
  });

  it.each(PAGES)('%s has no axe violation', async (title) => {
    const { page } = watched;
    await openConsolePage(page, title);
    await settle(page);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('nor do the pages with their details, dialogs and results open', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Clients');
    await settle(page);
    await page.getByRole('button', { name: 'Details of billing-service' }).click();
    await page.getByRole('heading', { name: 'Secrets' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Delete legacy-batch' }).click();
    // The confirmation names what goes with the client.
    await page.getByRole('dialog').getByText('1 secret', { exact: true }).waitFor();
    expect(await page.getByRole('dialog').getByRole('listitem').allTextContents()).toEqual(['1 secret', '0 federated credentials', '0 grants']);
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');

    await openConsolePage(page, 'APIs');
    await settle(page);
    await page.getByRole('button', { name: `Edit scopes of ${API}` }).click();
    await page.getByRole('dialog').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');

    await openConsolePage(page, 'Audit log');
    await settle(page);
    await page.getByRole('button', { name: /Show client\.disabled/ }).click();
    await page.getByRole('table', { name: 'Changes' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await openConsolePage(page, 'Token inspector');
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Check with the server' }).click();
    await page.getByTestId('signature').waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await openConsolePage(page, 'Config as code');
    await page.getByRole('button', { name: 'Load the server’s configuration' }).click();
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    await page.getByRole('heading', { name: /^Plan/ }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
  });

  it('had no CSP violation and no script error (axe ran through the DevTools protocol, under the served CSP)', () => {
    expect(watched.violations).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});

describe.skipIf(!isChromiumPresent)('at 200 % zoom', () => {
  let watched: WatchedPage;
  beforeAll(async () => {
    watched = await openWatchedPage(browser, new URL(server.url).origin, { viewport: { width: 640, height: 450 } });
    await signIn(watched.page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
  });
  afterAll(() => watched?.context.close());

  it.each(PAGES)('%s reflows: no sideways scrolling of the page', async (title) => {
    const { page } = watched;
    await openConsolePage(page, title);
    await settle(page);
    const [scrollWidth, clientWidth] = (await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')) as number[];
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth!);
  });
});

describe.skipIf(!isChromiumPresent)('by keyboard alone', () => {
  let watched: WatchedPage;
  beforeAll(async () => {
    watched = await openWatchedPage(browser, new URL(server.url).origin);
  });
  afterAll(() => watched?.context.close());

  const focused = (page: Page) => page.evaluate('document.activeElement?.getAttribute("name") ?? document.activeElement?.textContent');

  it('signs in, reaches a page by its link (focus moves to its heading), opens a dialog and closes it back to its button', async () => {
    const { page } = watched;
    await page.goto(server.consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // Focus starts on the heading; the first Tab reaches the client id.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('client_id');
    await page.keyboard.type(server.admin.clientId);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('client_secret');
    await page.keyboard.type(server.admin.clientSecret);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    const apisLink = page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'APIs', exact: true });
    for (let step = 0; step < 20 && !(await apisLink.evaluate((link) => link === (link.ownerDocument as { activeElement: unknown }).activeElement)); step++)
      await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'APIs' }).waitFor();
    expect(await focused(page)).toBe('APIs');

    const create = page.getByRole('button', { name: 'Create API' });
    await create.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Create an API' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('Create API');
  });
});
