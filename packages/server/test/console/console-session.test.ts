import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  adminRequest,
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
 * The console's session against a server whose admin tokens live 30 seconds (the shortest it
 * allows): the token is renewed before it expires without asking for the secret again, the
 * replaced token is revoked, and the console keeps working on the new one. When the server
 * refuses the renewal (the secret was revoked meanwhile), the session ends and says why.
 */
const isChromiumPresent = hasChromium();
const TTL_SECONDS = 30;

let server: ConsoleServer;
let browser: Browser;
let watched: WatchedPage;
const issued: string[] = [];

beforeAll(async () => {
  if (!isChromiumPresent) return;
  server = await startConsoleServer(['--admin-token-max-ttl', String(TTL_SECONDS)]);
  browser = await launchChromium();
  watched = await openWatchedPage(browser, new URL(server.url).origin);
  watched.page.on('response', async (response) => {
    if (new URL(response.url()).pathname === '/oauth/token' && response.ok()) issued.push(((await response.json()) as { access_token: string }).access_token);
  });
});

afterAll(async () => {
  await watched?.context.close();
  await browser?.close();
  await server?.close();
});

const statusWith = async (token: string) => (await fetch(`${server.url}/admin/v1/keys`, { headers: { authorization: `Bearer ${token}` } })).status;

describe.skipIf(!isChromiumPresent)('a session longer than a token', () => {
  it('renews the token before it expires, revokes the one it replaced, and keeps working', async () => {
    const { page } = watched;
    await signIn(page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
    await expect.poll(() => issued.length).toBe(1);
    // Renewal comes at half the life of so short a token (15 s), well before it expires.
    await expect.poll(() => issued.length, { timeout: (TTL_SECONDS - 5) * 1000, interval: 500 }).toBe(2);
    await expect.poll(() => statusWith(issued[0]!), { timeout: 5000 }).toBe(401);
    expect(await statusWith(issued[1]!)).toBe(200);
    await openConsolePage(page, 'Signing keys');
    await page.locator('.lane-active .key').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
  }, 60_000);

  it('after sign-out, the current token is refused too', async () => {
    await watched.page.getByRole('button', { name: 'Sign out' }).click();
    await watched.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect.poll(() => statusWith(issued.at(-1)!), { timeout: 5000 }).toBe(401);
  });

  it('ends the session, saying why, when the server refuses to renew it (its secret was revoked)', async () => {
    const { page } = watched;
    const auditor = await adminRequest<{ client_id: string; client_secret: string }>(server, 'POST', '/clients', { name: 'auditor' });
    await adminRequest(server, 'POST', '/grants', { client_id: auditor.client_id, api: 'urn:m2m-auth:admin', scopes: ['audit:read'] });
    await signIn(page, server.consoleUrl, auditor.client_id, auditor.client_secret);
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const secrets = await adminRequest<{ items: { id: string }[] }>(server, 'GET', `/clients/${auditor.client_id}/secrets`);
    await adminRequest(server, 'DELETE', `/clients/${auditor.client_id}/secrets/${secrets.items[0]!.id}`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: TTL_SECONDS * 1000 });
    expect(await page.getByRole('status').filter({ hasText: 'Your session ended: invalid_client' }).count()).toBe(1);
  }, 60_000);
});
