import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { cli, startServeProcess } from '../helpers/cli-process.js';

/**
 * The CLI anywhere: a first `serve` on an empty data dir creates an admin client and prints its
 * secret once (on stderr, never in the log); the same CLI commands then manage the server from
 * another "host" through the admin API, with the same output as local commands.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-remote-'));
let server: { url: string; child: ChildProcess; stdout: () => string; stderr: () => string };
let adminEnv: Record<string, string>;

const remote = (args: string[], env = adminEnv) => cli([...args, '--server', server.url], { ...env, M2M_AUTH_DATA_DIR: '/nonexistent/never-used' });
const remoteJson = async <T = Record<string, any>>(args: string[], env = adminEnv): Promise<T> => {
  const result = await remote([...args, '--json'], env);
  if (result.code !== 0) throw new Error(`m2m-auth ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

async function token(clientId: string, secret: string, audience: string) {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

beforeAll(async () => {
  server = await startServeProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'info']);
  const clientId = /^ {2}client_id:\s+(\S+)$/m.exec(server.stderr())?.[1];
  const clientSecret = /^ {2}client_secret:\s+(\S+)$/m.exec(server.stderr())?.[1];
  expect(clientId).toBeDefined();
  expect(clientSecret).toMatch(/^m2msk_/);
  adminEnv = { M2M_AUTH_ADMIN_CLIENT_ID: clientId!, M2M_AUTH_ADMIN_CLIENT_SECRET: clientSecret! };
});

afterAll(async () => {
  server?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('remote CLI against a running server', { timeout: 120_000 }, () => {
  it('create API → create client → grant → token → rotate secret → delete, all through --server', async () => {
    const api = await remoteJson(['apis', 'create', '--identifier', 'https://orders.example', '--scopes', 'read:orders,write:orders']);
    expect(api).toMatchObject({ identifier: 'https://orders.example', signing_alg: 'RS256' });
    const client = await remoteJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'billing-service']);
    expect(client.client_secret).toMatch(/^m2msk_/);
    const grant = await remoteJson(['grants', 'create', '--client', client.client_id, '--api', 'https://orders.example', '--scopes', 'read:orders']);
    expect(grant).toMatchObject({ client_id: client.client_id, scopes: ['read:orders'] });

    // Created through the admin API, usable at once.
    const first = await token(client.client_id, client.client_secret, 'https://orders.example');
    expect(first).toMatchObject({ status: 200, body: { scope: 'read:orders' } });

    const updated = await remoteJson(['grants', 'update', grant.id, '--scopes', 'read:orders,write:orders']);
    expect(updated.scopes).toEqual(['read:orders', 'write:orders']);
    expect((await token(client.client_id, client.client_secret, 'https://orders.example')).body.scope).toBe('read:orders write:orders');

    const rotated = await remoteJson<{ client_secret: string }>(['clients', 'rotate-secret', client.client_id, '--grace', '0']);
    expect((await token(client.client_id, rotated.client_secret, 'https://orders.example')).status).toBe(200);
    expect((await token(client.client_id, client.client_secret, 'https://orders.example')).status).toBe(401);

    expect((await remote(['clients', 'delete', client.client_id])).code).toBe(0);
    expect((await token(client.client_id, rotated.client_secret, 'https://orders.example')).status).toBe(401);

    const events = await remoteJson<{ type: string; actor: string }[]>(['audit', 'list', '--actor', adminEnv.M2M_AUTH_ADMIN_CLIENT_ID!]);
    expect(events.map((event) => event.type)).toEqual([
      'client.deleted',
      'client.secret_rotated',
      'grant.updated',
      'grant.created',
      'client.created',
      'api.created',
    ]);
  });

  it('prints the same output remote and local, and the same errors', async () => {
    await remoteJson(['apis', 'create', '--identifier', 'https://stock.example', '--scopes', 'read:stock']);
    for (const args of [
      ['apis', 'show', 'https://stock.example'],
      ['apis', 'list'],
      ['keys', 'list'],
    ]) {
      const local = await cli([...args, '--data-dir', dataDir]);
      const viaServer = await remote(args);
      expect(viaServer.stdout).toBe(local.stdout);
      const localJson = await cli([...args, '--data-dir', dataDir, '--json']);
      expect((await remote([...args, '--json'])).stdout).toBe(localJson.stdout);
    }
    const localError = await cli(['apis', 'create', '--identifier', 'not-a-uri', '--data-dir', dataDir, '--json']);
    const remoteError = await remote(['apis', 'create', '--identifier', 'not-a-uri', '--json']);
    expect(remoteError.code).toBe(1);
    // The same error; only the store it names differs: the server, the database file.
    const { store: remoteStore, ...remoteRest } = JSON.parse(remoteError.stderr);
    const { store: localStore, ...localRest } = JSON.parse(localError.stderr);
    expect(remoteRest).toEqual(localRest);
    expect(remoteRest).toMatchObject({ error: 'validation_failed', field: 'identifier' });
    expect(remoteStore).toEqual({ kind: 'server', location: server.url });
    expect(localStore).toEqual({ kind: 'sqlite', location: join(dataDir, 'm2m-auth.db') });
    expect((await remote(['apis', 'list'])).stderr).toBe(`store: server ${server.url}\n`);
  });

  it('trusted issuers and federated credentials: managed through --server, printed the same remote and local, refused the same', async () => {
    const jwksFile = join(dataDir, '..', `m2m-auth-remote-jwks-${process.pid}.json`);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'cluster-1', use: 'sig' }] }));
    const privateFile = `${jwksFile}.private`;
    writeFileSync(privateFile, JSON.stringify({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'oops' }] }));
    const cluster = 'https://kubernetes.example/clusters/orders';
    try {
      const issuer = await remoteJson(['issuers', 'add', '--issuer', cluster, '--kind', 'kubernetes', '--jwks-file', jwksFile]);
      expect(issuer).toMatchObject({ issuer: cluster, kind: 'kubernetes', token_reuse: 'allow', jwks: { keys: [{ kid: 'cluster-1' }] } });
      await remoteJson(['issuers', 'add', '--issuer', 'https://token.actions.githubusercontent.com', '--max-token-lifetime', '15m']);
      const client = await remoteJson<{ client_id: string }>(['clients', 'create', '--name', 'orders-worker']);
      const credential = await remoteJson<{ id: string }>([
        'clients',
        'federated',
        'add',
        '--client',
        client.client_id,
        '--issuer',
        'https://token.actions.githubusercontent.com',
        '--subject',
        'repo:acme/orders:',
        '--subject-match',
        'prefix',
        '--claim',
        'repository_owner_id=42',
      ]);
      await remoteJson(['clients', 'federated', 'add', '--client', client.client_id, '--issuer', cluster, '--subject', 'system:serviceaccount:orders:worker']);
      for (const args of [
        ['issuers', 'list'],
        ['issuers', 'show', '--issuer', cluster],
        ['clients', 'federated', 'list', '--client', client.client_id],
      ]) {
        expect((await remote(args)).stdout, args.join(' ')).toBe((await cli([...args, '--data-dir', dataDir])).stdout);
        expect((await remote([...args, '--json'])).stdout, args.join(' ')).toBe((await cli([...args, '--data-dir', dataDir, '--json'])).stdout);
      }
      for (const args of [
        ['issuers', 'add', '--issuer', 'http://plain.example'],
        ['issuers', 'add', '--issuer', 'https://other.example', '--jwks-file', privateFile],
        ['issuers', 'remove', '--issuer', cluster],
        ['clients', 'federated', 'add', '--client', client.client_id, '--issuer', cluster, '--subject', 'system:serviceaccount:orders:worker'],
        ['clients', 'federated', 'add', '--client', client.client_id, '--issuer', 'https://unknown.example', '--subject', 'a:b:c'],
        ['clients', 'federated', 'remove', '--client', client.client_id, '--id', 'fed_nope'],
      ]) {
        // The same error; only the store it names differs (a key file is checked before either is opened).
        const withoutStore = (stderr: string) => ({ ...JSON.parse(stderr), store: undefined });
        const local = await cli([...args, '--data-dir', dataDir, '--json']);
        const viaServer = await remote([...args, '--json']);
        expect(viaServer.code, args.join(' ')).toBe(1);
        expect(withoutStore(viaServer.stderr), args.join(' ')).toEqual(withoutStore(local.stderr));
      }
      const removed = await remote(['clients', 'federated', 'remove', '--client', client.client_id, '--id', credential.id]);
      expect(removed.stdout).toBe(`Federated credential ${credential.id} of ${client.client_id} removed\n`);
      expect((await remote(['issuers', 'remove', '--issuer', cluster, '--force'])).stdout).toBe(`Trusted issuer ${cluster} removed\n`);
      const events = await remoteJson<{ type: string }[]>(['audit', 'list', '--limit', '3']);
      expect(events.map((event) => event.type)).toEqual([
        'trusted_issuer.removed',
        'client.federated_credential_removed',
        'client.federated_credential_removed',
      ]);
    } finally {
      rmSync(jwksFile, { force: true });
      rmSync(privateFile, { force: true });
    }
  });

  it('exchange policies: managed through --server, obeyed by the token endpoint, printed and refused the same remote and local', async () => {
    const ledger = 'https://ledger.example';
    await remoteJson(['apis', 'create', '--identifier', 'https://shop.example', '--scopes', 'shop:order,ledger:write']);
    await remoteJson(['apis', 'create', '--identifier', ledger, '--scopes', 'ledger:write,ledger:read']);
    const orders = await remoteJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'order-desk']);
    const payments = await remoteJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'payment-desk']);
    await remoteJson(['grants', 'create', '--client', orders.client_id, '--api', 'https://shop.example', '--scopes', 'shop:order,ledger:write']);
    await remoteJson(['grants', 'create', '--client', payments.client_id, '--api', ledger, '--scopes', 'ledger:write,ledger:read']);
    const policy = await remoteJson<{ id: string }>([
      'exchange-policies',
      'add',
      '--client',
      payments.client_id,
      '--subject-client',
      orders.client_id,
      '--api',
      ledger,
      '--scopes',
      'ledger:write',
      '--description',
      'payments records what orders pay',
    ]);
    expect(policy).toMatchObject({ client_id: payments.client_id, subject_client_id: orders.client_id, subject_issuer: null, scopes: ['ledger:write'] });
    await remoteJson(['exchange-policies', 'add', '--client', orders.client_id, '--subject-client', '*', '--api', ledger]);

    // Added through the admin API, obeyed at once.
    const subject = await token(orders.client_id, orders.client_secret, 'https://shop.example');
    const exchanged = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${payments.client_id}:${payments.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subject.body.access_token!,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: ledger,
      }),
    });
    expect(exchanged.status).toBe(200);
    expect(await exchanged.json()).toMatchObject({ scope: 'ledger:write', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });

    for (const args of [
      ['exchange-policies', 'list'],
      ['exchange-policies', 'list', '--client', payments.client_id],
      ['exchange-policies', 'list', '--api', ledger],
    ]) {
      expect((await remote(args)).stdout, args.join(' ')).toBe((await cli([...args, '--data-dir', dataDir])).stdout);
      expect((await remote([...args, '--json'])).stdout, args.join(' ')).toBe((await cli([...args, '--data-dir', dataDir, '--json'])).stdout);
    }
    expect((await remoteJson<unknown[]>(['exchange-policies', 'list', '--client', payments.client_id])).length).toBe(1);
    for (const args of [
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', orders.client_id, '--api', 'urn:m2m-auth:admin'],
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', orders.client_id, '--api', ledger],
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', 'ghost', '--api', ledger],
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-issuer', 'https://unknown.example', '--api', ledger],
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', '*', '--api', ledger, '--scopes', 'shop:order'],
      ['exchange-policies', 'add', '--client', payments.client_id, '--api', ledger],
      ['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', '*', '--subject-issuer', 'https://unknown.example', '--api', ledger],
      ['exchange-policies', 'remove', '--id', 'xp_nope'],
    ]) {
      // The same error; only the store it names differs (a usage error is found before either is opened).
      const withoutStore = (stderr: string) => ({ ...JSON.parse(stderr), store: undefined });
      const local = await cli([...args, '--data-dir', dataDir, '--json']);
      const viaServer = await remote([...args, '--json']);
      expect(viaServer.code, args.join(' ')).toBe(1);
      expect(withoutStore(viaServer.stderr), args.join(' ')).toEqual(withoutStore(local.stderr));
    }
    const refused = await remote(['exchange-policies', 'add', '--client', payments.client_id, '--subject-client', '*', '--api', 'urn:m2m-auth:admin']);
    expect(refused.stderr.split('\n')).toContain(
      'error: tokens of urn:m2m-auth:admin are never obtained by token exchange: an admin client gets its own with the client credentials grant',
    );

    expect((await remote(['exchange-policies', 'remove', '--id', policy.id])).stdout).toBe(`Exchange policy ${policy.id} removed\n`);
    const events = await remoteJson<{ type: string }[]>(['audit', 'list', '--limit', '3']);
    expect(events.map((event) => event.type)).toEqual(['exchange_policy.removed', 'exchange_policy.added', 'exchange_policy.added']);
  });

  it('least privilege: a grants-only admin client can grant and nothing else; bad credentials say so', async () => {
    const service = await remoteJson<{ client_id: string }>(['clients', 'create', '--name', 'inventory-service']);
    const ci = await remoteJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'ci-job']);
    await remoteJson(['grants', 'create', '--client', ci.client_id, '--api', 'urn:m2m-auth:admin', '--scopes', 'grants:write']);
    const ciEnv = { M2M_AUTH_ADMIN_CLIENT_ID: ci.client_id, M2M_AUTH_ADMIN_CLIENT_SECRET: ci.client_secret };
    await remoteJson(['apis', 'create', '--identifier', 'https://inventory.example', '--scopes', 'read:inventory']);
    expect(
      (await remote(['grants', 'create', '--client', service.client_id, '--api', 'https://inventory.example', '--scopes', 'read:inventory'], ciEnv)).code,
    ).toBe(0);
    const refused = await remote(['clients', 'create', '--name', 'sneaky'], ciEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('needs the scope clients:write');
    const wrong = await remote(['apis', 'list'], { ...adminEnv, M2M_AUTH_ADMIN_CLIENT_SECRET: 'm2msk_wrong' });
    expect(wrong.stderr).toMatch(/could not get an admin token.*invalid_client/);
    expect(wrong.stderr).not.toContain('m2msk_wrong');
    const missing = await cli(['apis', 'list', '--server', server.url], { M2M_AUTH_ADMIN_CLIENT_ID: '', M2M_AUTH_ADMIN_CLIENT_SECRET: '' });
    expect(missing.stderr).toContain('M2M_AUTH_ADMIN_CLIENT_ID');
    const bootstrap = await remote(['admin', 'bootstrap', '--json']);
    expect(bootstrap.code).toBe(1);
    expect(JSON.parse(bootstrap.stderr)).toMatchObject({ error: 'usage', message: expect.stringContaining("runs on the server's host") });
  });

  it('sends a credential only over https or to loopback: a plain-http server or token endpoint elsewhere is refused before anything is sent', async () => {
    const elsewhere = 'http://auth.example.invalid:8080';
    // The admin token to a plain-http server, the token endpoint given apart (here a loopback one).
    const tokenToServer = await cli(['apis', 'list', '--server', elsewhere], { ...adminEnv, M2M_AUTH_TOKEN_ENDPOINT: `${server.url}/oauth/token` });
    expect(tokenToServer.code).toBe(1);
    expect(tokenToServer.stderr).toBe(
      'error: --server / M2M_AUTH_SERVER: refusing to send the admin token to http://auth.example.invalid:8080: use https (plain http is allowed on loopback only: localhost, 127.x.x.x, [::1])\n',
    );
    // The same through the environment, and the server alone (it then gets the secret too).
    const viaEnv = await cli(['apis', 'list', '--json'], { ...adminEnv, M2M_AUTH_SERVER: elsewhere });
    expect(JSON.parse(viaEnv.stderr)).toEqual({
      error: 'usage',
      message: expect.stringMatching(
        /^--server \/ M2M_AUTH_SERVER: refusing to send the admin client secret and token to http:\/\/auth\.example\.invalid:8080/,
      ),
    });
    // The client secret to a plain-http token endpoint, the server itself on loopback.
    const secretToTokenEndpoint = await remote(['apis', 'list'], { ...adminEnv, M2M_AUTH_TOKEN_ENDPOINT: `${elsewhere}/oauth/token` });
    expect(secretToTokenEndpoint.code).toBe(1);
    expect(secretToTokenEndpoint.stderr).toContain('M2M_AUTH_TOKEN_ENDPOINT: refusing to send the admin client secret to http://auth.example.invalid:8080');
    for (const result of [tokenToServer, viaEnv, secretToTokenEndpoint]) expect(result.stderr).not.toContain(adminEnv.M2M_AUTH_ADMIN_CLIENT_SECRET!);
    // Loopback http, the server and a separately given token endpoint alike, is allowed.
    const loopback = await remote(['apis', 'list', '--json'], { ...adminEnv, M2M_AUTH_TOKEN_ENDPOINT: `${server.url}/oauth/token` });
    expect(loopback.stderr).toBe(`${JSON.stringify({ store: { kind: 'server', location: server.url } })}\n`);
    expect(loopback.code).toBe(0);
  });

  it('export and apply work remote: the plan, one transaction, idempotence, and the same document as local', async () => {
    const docPath = join(dataDir, '..', `m2m-auth-remote-doc-${process.pid}.yaml`);
    const document = [
      'version: 1',
      'apis:',
      '  - identifier: https://billing.example',
      '    scopes: [charge]',
      'clients:',
      '  - name: invoice-service',
      'grants:',
      '  - client: invoice-service',
      '    api: https://billing.example',
      '    scopes: [charge]',
      '',
    ].join('\n');
    writeFileSync(docPath, document);
    try {
      const plan = await remote(['apply', '-f', docPath, '--dry-run']);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toMatch(/^Plan: 3 to create, 0 to update, 0 to delete\./);
      expect(plan.stdout).toContain('+ api https://billing.example');
      expect(plan.stdout).toContain('Dry run: nothing was changed.');
      const applied = await remoteJson<{ applied: boolean; created_secrets: { client_secret: string }[] }>(['apply', '-f', docPath]);
      expect(applied.applied).toBe(true);
      expect(applied.created_secrets[0]!.client_secret).toMatch(/^m2msk_/);
      expect((await remoteJson<{ applied: boolean }>(['apply', '-f', docPath])).applied).toBe(false);
      const viaServer = await remote(['export', '--format', 'json']);
      const local = await cli(['export', '--format', 'json', '--data-dir', dataDir]);
      expect(viaServer.stdout).toBe(local.stdout);
      expect(viaServer.stdout).not.toContain(applied.created_secrets[0]!.client_secret);
    } finally {
      rmSync(docPath, { force: true });
    }
  });

  it('apply --prune through --server refuses to delete the calling admin client unless --allow-delete-admin', async () => {
    const docPath = join(dataDir, '..', `m2m-auth-remote-prune-${process.pid}.yaml`);
    writeFileSync(docPath, 'version: 1\n');
    try {
      for (const args of [['--dry-run'], []]) {
        const refused = await remote(['apply', '-f', docPath, '--prune', ...args]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/would delete the calling admin client .*--allow-delete-admin/);
      }
      const plan = await remote(['apply', '-f', docPath, '--prune', '--allow-delete-admin', '--dry-run']);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toMatch(/- client m2m-auth-admin/);
    } finally {
      rmSync(docPath, { force: true });
    }
  });

  it('quotas and usage through --server: clients update --quota-*, a 429 past the quota, and m2m-auth usage printing the same as local', async () => {
    await remoteJson(['apis', 'create', '--identifier', 'https://usage.example', '--scopes', 'read']);
    const client = await remoteJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'metered-service']);
    await remoteJson(['grants', 'create', '--client', client.client_id, '--api', 'https://usage.example', '--scopes', 'read']);
    const updated = await remote(['clients', 'update', client.client_id, '--quota-per-day', '3', '--quota-mode', 'observe']);
    expect(updated.stdout).toMatch(/^quota: +3\/day \(observe\)$/m);
    const enforced = await remoteJson(['clients', 'update', client.client_id, '--quota-per-day', '2', '--quota-mode', 'enforce']);
    expect(enforced.quota).toEqual({ per_hour: null, per_day: 2, mode: 'enforce' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await token(client.client_id, client.client_secret, 'https://usage.example')).status);
    expect(statuses).toEqual([200, 200, 429]);
    await remoteJson(['clients', 'update', client.client_id, '--remove-quota']);
    expect((await token(client.client_id, client.client_secret, 'https://usage.example')).status).toBe(200);

    // Counted by the server in batches about once a second: read until the three tokens are in.
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const args = ['usage', '--client', client.client_id, '--since', since, '--until', until];
    const deadline = Date.now() + 10_000;
    let view = await remoteJson<{ totals: { tokens: number; refetches: number }[] }>(args);
    while ((view.totals[0]?.tokens ?? 0) < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = await remoteJson(args);
    }
    expect(view.totals).toEqual([{ client_id: client.client_id, api: 'https://usage.example', tokens: 3, refetches: 2 }]);
    for (const by of ['day', 'hour']) {
      const local = await cli([...args, '--by', by, '--data-dir', dataDir]);
      expect(local.code).toBe(0);
      expect((await remote([...args, '--by', by])).stdout).toBe(local.stdout);
      expect((await remote([...args, '--by', by, '--json'])).stdout).toBe((await cli([...args, '--by', by, '--data-dir', dataDir, '--json'])).stdout);
    }
    const human = await remote(args);
    expect(human.stdout).toContain(client.client_id);
    expect(human.stdout).toMatch(/refetches: tokens fetched while an earlier one/);
  });

  it('never writes the bootstrap secret, a client secret or a token to the log', async () => {
    // Wait for the log line of the last admin request handled, then assert on the whole log.
    const deadline = Date.now() + 10_000;
    while (!server.stdout().includes('token.issued') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.stdout()).toContain('token.issued');
    expect(server.stdout()).not.toContain(adminEnv.M2M_AUTH_ADMIN_CLIENT_SECRET);
    expect(server.stdout()).not.toMatch(/m2msk_|eyJ/);
  });

  it('a second start does not bootstrap again', async () => {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    server = await startServeProcess(['--port', '0', '--data-dir', dataDir]);
    expect(server.stderr()).not.toContain('admin client for the admin API was created');
  });
});
