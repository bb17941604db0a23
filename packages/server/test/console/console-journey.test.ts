import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import {
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
 * An operator's first session in the console, in a real browser against `m2m-auth serve` as first
 * started: sign in with the admin client the start printed, create an API and a client (its secret
 * shown once), grant it a scope, see the token it gets (with curl) counted on the overview and the
 * change in the audit log, rotate the signing key, sign out — and through all of it, not one CSP
 * violation, script error or request to another origin.
 */
const isChromiumPresent = hasChromium();
const API = 'https://orders.example';
const run = promisify(execFile);

let server: ConsoleServer;
let browser: Browser;
let watched: WatchedPage;
/** The admin tokens the console obtained, read off the wire to check that sign-out revokes them. */
const adminTokens: string[] = [];

beforeAll(async () => {
  if (!isChromiumPresent) return;
  server = await startConsoleServer();
  browser = await launchChromium();
  watched = await openWatchedPage(browser, new URL(server.url).origin);
  watched.page.on('response', async (response) => {
    if (new URL(response.url()).pathname === '/oauth/token' && response.ok())
      adminTokens.push(((await response.json()) as { access_token: string }).access_token);
  });
});

afterAll(async () => {
  await watched?.context.close();
  await browser?.close();
  await server?.close();
});

describe.skipIf(!isChromiumPresent)('the console journey', () => {
  let client: { id: string; secret: string };

  it('answers /console with the page and its security headers', async () => {
    const response = await watched.page.goto(`${server.consoleUrl}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toMatch(/^text\/html/);
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
  });

  it('signs in with the admin client the first start printed and shows the overview', async () => {
    const { page } = watched;
    await signIn(page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(await page.getByText(`Signed in as ${server.admin.clientId}`).count()).toBe(1);
    // The secret was exchanged, not kept in the form.
    expect(await page.locator('input[type=password]').count()).toBe(0);
  });

  it('creates an API with its scopes', async () => {
    const { page } = watched;
    await openConsolePage(page, 'APIs');
    await page.getByRole('button', { name: 'Create API' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API' });
    await dialog.getByLabel('Identifier (the tokens’ audience)').fill(API);
    await dialog.getByLabel('Name', { exact: true }).fill('Orders');
    await dialog.getByLabel('Scopes (separated by spaces)').fill('orders:read orders:write');
    await dialog.getByRole('button', { name: 'Create API' }).click();
    const row = page.getByRole('row', { name: /Orders/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('orders:read');
    expect(await row.textContent()).toContain('orders:write');
  });

  it('creates a client and shows its secret once, with a warning', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Clients');
    await page.getByRole('button', { name: 'Create client' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a client' });
    await dialog.getByLabel('Name', { exact: true }).fill('billing-service');
    await dialog.getByRole('button', { name: 'Create client' }).click();
    const secret = page.getByLabel('client secret', { exact: true });
    await secret.waitFor();
    client = { id: (await page.getByTestId('new-client-id').textContent())!, secret: await secret.inputValue() };
    expect(client.secret).toMatch(/^m2msk_/);
    expect(await page.getByText('It is shown this once').count()).toBe(1);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    // Gone for good: neither the page nor the client's details show it again.
    await page.getByRole('button', { name: 'Details of billing-service' }).click();
    await page.getByRole('heading', { name: 'Secrets' }).waitFor();
    expect(await page.content()).not.toContain(client.secret);
    expect(await page.getByText(`…${client.secret.slice(-4)}`, { exact: true }).count()).toBe(1);
  });

  it('grants the client a scope in the matrix, and the client gets a token with curl', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Grants');
    await page.getByRole('combobox', { name: 'API' }).selectOption(API);
    const cell = page.getByRole('checkbox', { name: 'billing-service: orders:read' });
    await cell.check();
    await page.getByRole('status').filter({ hasText: 'billing-service may now request orders:read' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'billing-service: orders:write' }).isChecked()).toBe(false);

    const { stdout } = await run(
      'curl',
      ['-sS', '-u', `${client.id}:${client.secret}`, '-d', 'grant_type=client_credentials', '-d', `audience=${API}`, `${server.url}/oauth/token`],
      {
        timeout: 10_000,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ token_type: 'Bearer', scope: 'orders:read' });
  });

  it('counts that token on the overview, with the client among the busiest', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Overview');
    // Usage is counted in batches, about a second behind: refresh until it shows.
    const busiest = page.getByRole('region', { name: 'Busiest clients' });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          await page.waitForLoadState('networkidle');
          return busiest.textContent();
        },
        { timeout: 15_000, interval: 1000 },
      )
      .toContain('billing-service');
    expect(Number(await page.getByTestId('issued-total').textContent())).toBeGreaterThanOrEqual(1);
  });

  it('shows the grant in the audit log, found by its type, with its data', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Audit log');
    await page.getByLabel('Type').fill('grant.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    const row = page.getByRole('row').filter({ hasText: 'grant.created' });
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(server.admin.clientId);
    await row.getByRole('button', { name: /Show/ }).click();
    expect(await page.getByRole('table', { name: 'Changes' }).textContent()).toContain(client.id);
  });

  it('rotates the signing key: a new key is current, the old one retiring', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Signing keys');
    const current = page.locator('.lane-active .key code');
    const before = await current.textContent();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await expect.poll(() => current.textContent(), { timeout: 10_000 }).not.toBe(before);
    expect(await page.locator('.lane-published').textContent()).toContain(before!);
  });

  it('signs out: back to the sign-in form, and the token the console held is revoked', async () => {
    const { page } = watched;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByText('You signed out').count()).toBe(1);
    const last = adminTokens.at(-1)!;
    await expect
      .poll(async () => (await fetch(`${server.url}/admin/v1/keys`, { headers: { authorization: `Bearer ${last}` } })).status, { timeout: 5000 })
      .toBe(401);
    // Nothing of the session is left in the browser's storage.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    expect((await watched.context.cookies()).length).toBe(0);
  });

  it('had no CSP violation, no script error and no request to another origin on the way', () => {
    expect(watched.violations).toEqual([]);
    expect(watched.errors).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
  });
});
