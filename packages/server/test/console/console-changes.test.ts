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
 * Changes beyond the first journey. Config as code: a YAML document uploaded (its parser loaded
 * only then, under the same CSP), planned as a diff without changing anything, applied exactly as
 * planned, the new client's secret shown once — a secret that works. Then that client's secret
 * rotated by hand: a second one added, the first revoked, and only the second still works.
 */
const isChromiumPresent = hasChromium();
const DOCUMENT = `version: 1
apis:
  - identifier: https://shipping.example
    name: Shipping
    scopes: [shipments:read, shipments:write]
clients:
  - name: dispatcher
grants:
  - client: dispatcher
    api: https://shipping.example
    scopes: [shipments:read]
`;

let server: ConsoleServer;
let browser: Browser;
let watched: WatchedPage;
let dispatcher: { id: string; secret: string };

async function tokenStatus(clientId: string, secret: string) {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience: 'https://shipping.example' }),
  });
  return response.status;
}

beforeAll(async () => {
  if (!isChromiumPresent) return;
  server = await startConsoleServer();
  browser = await launchChromium();
  watched = await openWatchedPage(browser, new URL(server.url).origin);
  await signIn(watched.page, server.consoleUrl, server.admin.clientId, server.admin.clientSecret);
});

afterAll(async () => {
  await watched?.context.close();
  await browser?.close();
  await server?.close();
});

describe.skipIf(!isChromiumPresent)('config as code', () => {
  it('plans an uploaded YAML document as a diff, and changes nothing yet', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Config as code');
    await page.getByLabel('Upload a document').setInputFiles({ name: 'shipping.yaml', mimeType: 'application/yaml', buffer: Buffer.from(DOCUMENT) });
    expect(await page.getByRole('textbox', { name: 'Document', exact: true }).inputValue()).toBe(DOCUMENT);
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    const plan = page.getByRole('region', { name: 'Plan (nothing changed yet)' });
    await plan.waitFor();
    const changes = await plan.locator('li.change > p').allTextContents();
    expect(changes).toEqual([
      'create api https://shipping.example',
      expect.stringMatching(/^create client dispatcher/),
      expect.stringMatching(/^create grant dispatcher/),
    ]);
    expect(await plan.getByText(/kept \(not in the document; prune would delete them\)/).count()).toBe(1);
    const apis = await adminRequest<{ items: { identifier: string }[] }>(server, 'GET', '/apis');
    expect(apis.items.map((api) => api.identifier)).not.toContain('https://shipping.example');
  });

  it('applies the plan and shows the new client’s secret once; the client gets a token with it', async () => {
    const { page } = watched;
    await page.getByRole('button', { name: 'Apply the plan' }).click();
    await page.getByRole('region', { name: 'Applied' }).waitFor();
    const section = page.getByRole('region', { name: 'Secret of dispatcher' });
    const secret = await section.getByLabel('client secret', { exact: true }).inputValue();
    const clientId = (await section.locator('code').first().textContent())!;
    dispatcher = { id: clientId, secret };
    const token = await fetchToken(server.url, clientId, secret, 'https://shipping.example');
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ scope: 'shipments:read', client_id: clientId });
    // Nothing left to apply twice: the plan is spent.
    expect(await page.getByRole('button', { name: 'Apply the plan' }).isDisabled()).toBe(true);
  });

  it('adds a second secret to the client, shown once, then revokes the first: only the second works', async () => {
    const { page } = watched;
    await openConsolePage(page, 'Clients');
    await page.getByRole('button', { name: 'Details of dispatcher' }).click();
    await page.getByRole('button', { name: 'Add a secret' }).click();
    const second = await page.getByLabel('client secret', { exact: true }).inputValue();
    expect(second).not.toBe(dispatcher.secret);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('button', { name: `Revoke secret …${dispatcher.secret.slice(-4)}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke the secret …${dispatcher.secret.slice(-4)} of dispatcher?` });
    expect(await dialog.textContent()).toContain('It stops working at once');
    await dialog.getByRole('button', { name: 'Revoke secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: /^Revoke secret/ }).count()).toBe(1);
    expect(await tokenStatus(dispatcher.id, dispatcher.secret)).toBe(401);
    expect(await tokenStatus(dispatcher.id, second)).toBe(200);
  });

  it('edits an API’s scopes, and the audit log shows the change before and after, side by side', async () => {
    const { page } = watched;
    await openConsolePage(page, 'APIs');
    await page.getByRole('button', { name: 'Edit scopes of https://shipping.example' }).click();
    const dialog = page.getByRole('dialog', { name: 'Scopes of Shipping' });
    const field = dialog.getByLabel('Scopes (separated by spaces)');
    expect(await field.inputValue()).toBe('shipments:read shipments:write');
    await field.fill('shipments:read shipments:write shipments:cancel');
    await dialog.getByRole('button', { name: 'Save scopes' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('row', { name: /Shipping/ }).textContent()).toContain('shipments:cancel');

    await openConsolePage(page, 'Audit log');
    await page.getByLabel('Type').fill('api.updated');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: /Show api\.updated/ }).click();
    const changes = page.getByRole('table', { name: 'Changes' });
    const scopes = changes.getByRole('row', { name: /^scopes/ });
    const [before, after] = await scopes.locator('td').allTextContents();
    expect(before).not.toContain('shipments:cancel');
    expect(after).toContain('shipments:cancel');
  });

  it('loaded the YAML parser without a CSP violation or a script error', () => {
    expect(watched.violations).toEqual([]);
    expect(watched.errors).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
  });
});
