import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { decodeJwt } from 'jose';
import { cli, cliJson, initStore, startServeProcess } from '../helpers/cli-process.js';

/**
 * Token exchange as an operator sets it up, on SQLite: `m2m-auth exchange-policies` against the
 * data directory of a running server (another process: the server learns of each change from the
 * change feed), and `serve --exchange-max-chain` bounding how often a token is exchanged again.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-exchange-cli-'));
const d = ['--data-dir', dataDir];
const SHOP = 'https://shop.example';
const LEDGER = 'https://ledger.example';
const AUDIT = 'https://audit.example';

type Client = { client_id: string; client_secret: string };
let server: { url: string; child: ChildProcess };
let orders: Client;
let payments: Client;
let ledger: Client;

beforeAll(async () => {
  await initStore(d);
  await Promise.all([
    cliJson(['apis', 'create', '--identifier', SHOP, '--scopes', 'shop:order,ledger:append', ...d]),
    cliJson(['apis', 'create', '--identifier', LEDGER, '--scopes', 'ledger:append', ...d]),
    cliJson(['apis', 'create', '--identifier', AUDIT, '--scopes', 'ledger:append', ...d]),
  ]);
  const create = (name: string) => cliJson<Client>(['clients', 'create', '--name', name, ...d]);
  [orders, payments, ledger] = await Promise.all([create('orders'), create('payments'), create('ledger')]);
  await Promise.all([
    cliJson(['grants', 'create', '--client', orders.client_id, '--api', SHOP, '--scopes', 'shop:order,ledger:append', ...d]),
    cliJson(['grants', 'create', '--client', payments.client_id, '--api', LEDGER, '--scopes', 'ledger:append', ...d]),
    cliJson(['grants', 'create', '--client', ledger.client_id, '--api', AUDIT, '--scopes', 'ledger:append', ...d]),
  ]);
  // One actor at most: a token that was exchanged is not exchanged again.
  server = await startServeProcess(['--port', '0', '--exchange-max-chain', '1', ...d]);
}, 60_000);

afterAll(() => {
  server?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function token(client: Client, params: Record<string, string>) {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const exchange = (client: Client, subjectToken: string, audience: string) =>
  token(client, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience,
  });

/** Bounded wait for the server to pick up a change made by another process; it times nothing. */
async function eventually<T>(attempt: () => Promise<T>, isDone: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await attempt();
    if (isDone(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('exchange policies from the CLI, against a running server', { timeout: 60_000 }, () => {
  it('a policy added from another process is obeyed once the server sees it, and stops when removed', async () => {
    const subject = (await token(orders, { grant_type: 'client_credentials', audience: SHOP })).body.access_token!;
    expect((await exchange(payments, subject, LEDGER)).body.error).toBe('unauthorized_client');

    const policy = await cliJson<{ id: string }>([
      'exchange-policies',
      'add',
      '--client',
      payments.client_id,
      '--subject-client',
      orders.client_id,
      '--api',
      LEDGER,
      ...d,
    ]);
    const granted = await eventually(
      () => exchange(payments, subject, LEDGER),
      (answer) => answer.status === 200,
    );
    expect(granted.status).toBe(200);
    expect(decodeJwt(granted.body.access_token!)).toMatchObject({ sub: orders.client_id, act: { sub: payments.client_id }, scope: 'ledger:append' });

    // --exchange-max-chain 1: the ledger, holding that token, cannot exchange it onward even under a policy.
    await cliJson(['exchange-policies', 'add', '--client', ledger.client_id, '--subject-client', payments.client_id, '--api', AUDIT, ...d]);
    const onward = await eventually(
      () => exchange(ledger, granted.body.access_token!, AUDIT),
      (answer) => answer.body.error !== 'unauthorized_client',
    );
    expect(onward).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(onward.body.error_description).toMatch(/longer than the 1 actors/);

    expect((await cli(['exchange-policies', 'remove', '--id', policy.id, ...d])).stdout).toBe(`Exchange policy ${policy.id} removed\n`);
    const refused = await eventually(
      () => exchange(payments, subject, LEDGER),
      (answer) => answer.status !== 200,
    );
    expect(refused.body.error).toBe('unauthorized_client');
  });

  it('refuses the admin API as a target and a bad --exchange-max-chain, clearly', async () => {
    const admin = await cli(['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', '*', '--api', 'urn:m2m-auth:admin', ...d]);
    expect(admin.code).toBe(1);
    expect(admin.stderr).toContain(
      'error: tokens of urn:m2m-auth:admin are never obtained by token exchange: an admin client gets its own with the client credentials grant',
    );
    const flag = await cli(['serve', '--port', '0', '--exchange-max-chain', '0', ...d]);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain('--exchange-max-chain / M2M_AUTH_EXCHANGE_MAX_CHAIN: must be a whole number of actors from 1 to 16');
  });
});
