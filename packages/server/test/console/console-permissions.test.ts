import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  adminRequest,
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
 * The console shows what the token may do and no more, and the server's refusals as it words
 * them: an admin client holding only grants:write sees the Grants page alone, with the form it
 * can use. And the token inspector: a token's claims decoded in the page, its signature and
 * revocation checked by the server, a tampered token caught.
 */
const isChromiumPresent = hasChromium();
const API = 'https://orders.example';

let server: ConsoleServer;
let browser: Browser;
let billing: { client_id: string; client_secret: string };
let grantsBot: { client_id: string; client_secret: string };

beforeAll(async () => {
  if (!isChromiumPresent) return;
  server = await startConsoleServer();
  browser = await launchChromium();
  await adminRequest(server, 'POST', '/apis', { identifier: API, scopes: ['orders:read', 'orders:write'] });
  billing = await adminRequest(server, 'POST', '/clients', { name: 'billing-service' });
  grantsBot = await adminRequest(server, 'POST', '/clients', { name: 'grants-bot' });
  await adminRequest(server, 'POST', '/grants', { client_id: grantsBot.client_id, api: 'urn:m2m-auth:admin', scopes: ['grants:write'] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!isChromiumPresent)('an admin client with grants:write only', () => {
  let watched: WatchedPage;
  beforeAll(async () => {
    watched = await openWatchedPage(browser, new URL(server.url).origin);
    await signIn(watched.page, server.consoleUrl, grantsBot.client_id, grantsBot.client_secret);
  });
  afterAll(() => watched?.context.close());

  it('sees the Grants page alone, without the matrix it cannot read', async () => {
    const { page } = watched;
    await page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    const links = await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Grants']);
    expect(await page.getByRole('table').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Grant scopes' }).count()).toBe(1);
  });

  it('is shown Grants for a page its token cannot use, named in the address', async () => {
    const { page } = watched;
    for (const path of ['clients', 'keys', 'audit', 'overview', 'config']) {
      await page.goto(`${server.consoleUrl}#/${path}`);
      await page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
      expect(await page.getByRole('button', { name: /Create|Rotate|Delete/ }).count()).toBe(0);
    }
  });

  it('grants a client scopes by name, and the server holds the grant', async () => {
    const { page } = watched;
    await page.getByLabel('Client id').fill(billing.client_id);
    await page.getByLabel('API identifier').fill(API);
    await page.getByLabel('Scopes (separated by spaces)').fill('orders:read');
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    await page.getByText(`Granted orders:read on ${API} to ${billing.client_id}.`).first().waitFor();
    const grants = await adminRequest<{ items: { client_id: string; scopes: string[] }[] }>(server, 'GET', `/grants?client_id=${billing.client_id}`);
    expect(grants.items).toEqual([expect.objectContaining({ client_id: billing.client_id, scopes: ['orders:read'] })]);
  });

  it('shows the server’s problem details when it asks for what it does not hold', async () => {
    const { page } = watched;
    await page.getByLabel('Client id').fill(billing.client_id);
    await page.getByLabel('API identifier').fill('urn:m2m-auth:admin');
    await page.getByLabel('Scopes (separated by spaces)').fill('keys:write');
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/\(403\)/);
    expect(await alert.textContent()).toContain('keys:write');
  });

  it('had no CSP violation and no script error', () => {
    expect(watched.violations).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});

describe.skipIf(!isChromiumPresent)('the token inspector', () => {
  let watched: WatchedPage;
  let reporting: { client_id: string; client_secret: string };
  let token: string;
  beforeAll(async () => {
    watched = await openWatchedPage(browser, new URL(server.url).origin);
    await signIn(watched.page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
    reporting = await adminRequest(server, 'POST', '/clients', { name: 'reporting' });
    await adminRequest(server, 'POST', '/grants', { client_id: reporting.client_id, api: API, scopes: ['orders:read'] });
    token = await fetchToken(server.url, reporting.client_id, reporting.client_secret, API);
  });
  afterAll(() => watched?.context.close());

  async function inspect(value: string) {
    const { page } = watched;
    await page.getByLabel('Access token').fill(value);
    await page.getByRole('button', { name: 'Check with the server' }).click();
    return page.getByTestId('signature');
  }

  it('decodes the header and claims in the page, counts down to expiry, and the server finds the signature valid', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Token inspector');
    const signature = await inspect(token);
    await signature.waitFor();
    expect(await signature.textContent()).toMatch(/^valid/);
    expect(JSON.parse((await page.getByTestId('jwt-claims').textContent())!)).toMatchObject({ client_id: reporting.client_id, aud: API });
    expect(JSON.parse((await page.getByTestId('jwt-header').textContent())!)).toMatchObject({ typ: 'at+jwt' });
    expect(await page.getByTestId('expiry').textContent()).toMatch(/^Expires in \d+ min/);
    expect(await page.getByTestId('revoked').textContent()).toBe('no');
  });

  it('shows a tampered token’s signature as invalid, though its claims still decode', async () => {
    const { page } = watched;
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, scope: 'orders:read orders:write admin' })).toString('base64url'), signature].join('.');
    const verdict = await inspect(forged);
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/^INVALID/);
    expect(await page.getByRole('heading', { name: 'Not an active token of this server' }).count()).toBe(1);
    expect(JSON.parse((await page.getByTestId('jwt-claims').textContent())!).scope).toBe('orders:read orders:write admin');
  });

  it('shows an opaque token’s claims as the server issued them, with no signature to check', async () => {
    const { page } = watched;
    await adminRequest(server, 'POST', '/apis', { identifier: 'https://ledger.example', scopes: ['ledger:read'], token_format: 'opaque' });
    await adminRequest(server, 'POST', '/grants', { client_id: reporting.client_id, api: 'https://ledger.example', scopes: ['ledger:read'] });
    const opaque = await fetchToken(server.url, reporting.client_id, reporting.client_secret, 'https://ledger.example');
    expect(opaque.split('.')).toHaveLength(1);
    const verdict = await inspect(opaque);
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/^not applicable/);
    expect(await page.getByRole('heading', { name: 'Active token of this server' }).count()).toBe(1);
    expect(JSON.parse((await page.getByTestId('jwt-claims').textContent())!)).toMatchObject({ client_id: reporting.client_id, scope: 'ledger:read' });
    expect(await page.getByTestId('jwt-header').count()).toBe(0);
  });

  it('shows a revoked token as revoked', async () => {
    const revoked = await fetch(`${server.url}/oauth/revoke`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${reporting.client_id}:${reporting.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    expect(revoked.status).toBe(200);
    await inspect(token);
    await watched.page.getByTestId('revoked').getByText('yes').waitFor();
  });

  it('keeps the token out of the address and the browser’s console', () => {
    expect(watched.page.url()).not.toContain(token.split('.')[1]);
    expect(watched.consoleMessages.filter((message) => message.includes(token.split('.')[2]!))).toEqual([]);
    expect(watched.violations).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});
