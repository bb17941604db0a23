#!/usr/bin/env node
// `npm run docs:console-screenshots`: the pictures in docs/console.md, taken of the console as it
// is. It builds first, starts a server in memory with demo data (APIs, clients, grants, tokens
// issued and refused, a rotated key, a changed client), signs in with chromium and writes one PNG
// per page into docs/console/. Rerun it after changing the console, and commit the pictures.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../packages/server/dist/index.js';

const OUT = fileURLToPath(new URL('../docs/console/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ORDERS = 'https://orders.example';
const INVENTORY = 'https://inventory.example';

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function token(url, id, secret, params) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return response.json();
}

/** The demo registry, made through the admin API as an operator would. */
async function seed(server, admin) {
  const { access_token: adminToken } = await token(server.url, admin.clientId, admin.clientSecret, { audience: 'urn:m2m-auth:admin' });
  const call = async (method, path, body) => {
    const response = await fetch(`${server.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  await call('POST', '/apis', { identifier: ORDERS, name: 'Orders', scopes: ['orders:read', 'orders:write', 'orders:refund'] });
  await call('POST', '/apis', {
    identifier: INVENTORY,
    name: 'Inventory',
    scopes: ['stock:read', 'stock:write'],
    signing_alg: 'ES256',
    token_ttl_seconds: 600,
  });
  const billing = await call('POST', '/clients', { name: 'billing-service', description: 'Invoices and refunds', default_api: ORDERS });
  const warehouse = await call('POST', '/clients', { name: 'warehouse-sync', description: 'Nightly stock reconciliation' });
  const reporting = await call('POST', '/clients', { name: 'reporting', description: 'Monthly reports' });
  await call('POST', '/clients', { name: 'ci-deployer', description: 'Deploys from CI' });
  await call('POST', '/grants', { client_id: billing.client_id, api: ORDERS, scopes: ['orders:read', 'orders:write', 'orders:refund'] });
  await call('POST', '/grants', { client_id: warehouse.client_id, api: INVENTORY, scopes: ['stock:read', 'stock:write'] });
  await call('POST', '/grants', { client_id: warehouse.client_id, api: ORDERS, scopes: ['orders:read'] });
  await call('POST', '/grants', { client_id: reporting.client_id, api: ORDERS, scopes: ['orders:read'] });
  await call('PATCH', `/clients/${reporting.client_id}`, { enabled: false, description: 'Monthly reports (paused)' });
  await call('POST', '/keys/rotate', {});
  for (let i = 0; i < 24; i++) await token(server.url, billing.client_id, billing.client_secret, { audience: ORDERS });
  for (let i = 0; i < 9; i++) await token(server.url, warehouse.client_id, warehouse.client_secret, { audience: INVENTORY });
  for (let i = 0; i < 4; i++) await token(server.url, warehouse.client_id, 'm2msk_an-old-secret', { audience: INVENTORY });
  await token(server.url, billing.client_id, billing.client_secret, { audience: ORDERS, scope: 'orders:delete' });
  return { billing };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const server = await startServer({ storage: 'memory', port: 0, logger: 'silent' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const admin = await server.admin.bootstrapAdminClient({});
    const { billing } = await seed(server, admin);
    const sample = await token(server.url, billing.client_id, billing.client_secret, { audience: ORDERS });
    // Usage is counted in batches, about a second behind.
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const shoot = async (name) => {
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
      console.log(`wrote docs/console/${name}.png`);
    };
    const open = async (title) => {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: title, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await page.waitForLoadState('networkidle');
    };

    await page.goto(`${server.url}/console`);
    await page.getByLabel('Client id').fill(admin.clientId);
    await shoot('sign-in');
    await page.getByLabel('Client secret').fill(admin.clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await shoot('overview');
    await open('APIs');
    await shoot('apis');
    await open('Clients');
    await page.getByRole('button', { name: 'Details of billing-service' }).click();
    await page.getByRole('heading', { name: 'Secrets' }).waitFor();
    await shoot('clients');
    await open('Grants');
    await page.getByRole('combobox', { name: 'API' }).selectOption(ORDERS);
    await shoot('grants');
    await open('Signing keys');
    await shoot('keys');
    await open('Audit log');
    await page
      .getByRole('button', { name: /Show client\.disabled/ })
      .first()
      .click();
    await shoot('audit');
    await open('Token inspector');
    await page.getByLabel('Access token').fill(sample.access_token);
    await page.getByRole('button', { name: 'Check with the server' }).click();
    await page.getByTestId('signature').waitFor();
    await shoot('inspector');
    await open('Config as code');
    await page.getByRole('textbox', { name: 'Document', exact: true }).fill(
      JSON.stringify(
        {
          version: 1,
          apis: [
            { identifier: ORDERS, name: 'Orders', scopes: ['orders:read', 'orders:write', 'orders:refund', 'orders:export'] },
            { identifier: 'https://shipping.example', scopes: ['shipments:read'] },
          ],
        },
        null,
        2,
      ),
    );
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    await page.getByRole('heading', { name: /^Plan/ }).waitFor();
    await shoot('config');
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
