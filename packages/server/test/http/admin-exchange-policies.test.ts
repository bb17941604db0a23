import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { basic, createTestApp, postToken, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, type AdminScope } from '../../src/admin/built-in-admin-api.js';

/**
 * Token exchange, the management side: exchange policies through the admin API — their shape, the
 * checks every write passes (the admin API is never a target), conflicts, the scopes they need, the
 * audit trail, and that a policy added or removed here is what the token endpoint obeys.
 */
const PAYMENTS = 'https://payments.example';
const LEDGER = 'https://ledger.example';
const GITHUB = 'https://token.actions.githubusercontent.com';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

describe('admin API: token-exchange policies', () => {
  let t: TestApp;
  let root: { authorization: string };
  let orders: { clientId: string; auth: string };
  let payments: { clientId: string; auth: string };

  beforeEach(async () => {
    t = await createTestApp();
    const boot = await t.runtime.admin.bootstrapAdminClient();
    root = await bearerFor(boot.clientId, boot.clientSecret);
    await t.runtime.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:charge', 'ledger:append'] });
    await t.runtime.admin.createApi({ identifier: LEDGER, scopes: ['ledger:append', 'ledger:read'] });
    const { publicKey } = await generateKeyPair('ES256');
    await t.runtime.admin.addTrustedIssuer({ issuer: GITHUB, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } });
    orders = await service('order-service', PAYMENTS, ['payments:charge', 'ledger:append']);
    payments = await service('payment-service', LEDGER, ['ledger:append', 'ledger:read']);
  });
  afterEach(() => t.close());

  async function service(name: string, api: string, scopes: string[]) {
    const created = await t.runtime.admin.createClient({ name });
    await t.runtime.admin.createGrant({ clientId: created.clientId, apiIdentifier: api, scopes });
    return { clientId: created.clientId, auth: basic(created.clientId, created.clientSecret!) };
  }

  async function bearerFor(clientId: string, secret: string) {
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(clientId, secret));
    expect(token.status).toBe(200);
    return { authorization: `Bearer ${token.body.access_token as string}` };
  }

  async function adminWith(scopes: AdminScope[]) {
    const client = await t.runtime.admin.createClient({ name: `ci-${scopes.join('-')}` });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
    return bearerFor(client.clientId, client.clientSecret!);
  }

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string> = root, payload?: unknown) => {
    const response = await t.app.inject({ method, url: `/admin/v1${url}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: response.statusCode, headers: response.headers, body: response.body ? (JSON.parse(response.body) as Record<string, any>) : undefined };
  };

  const exchange = async () => {
    const subject = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, orders.auth);
    return postToken(
      t.app,
      { grant_type: EXCHANGE, subject_token: subject.body.access_token as string, subject_token_type: ACCESS_TOKEN, audience: LEDGER },
      payments.auth,
    );
  };

  it('a policy added through the admin API is what the token endpoint obeys, until it is removed', async () => {
    expect((await exchange()).body.error).toBe('unauthorized_client');
    const added = await call('POST', '/exchange-policies', root, {
      client_id: payments.clientId,
      subject_client_id: orders.clientId,
      api: LEDGER,
      scopes: ['ledger:append'],
      description: 'payments records charges on behalf of orders',
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.stringMatching(/^xp_/),
      client_id: payments.clientId,
      subject_client_id: orders.clientId,
      subject_issuer: null,
      api: LEDGER,
      scopes: ['ledger:append'],
      description: 'payments records charges on behalf of orders',
      created_at: expect.any(String),
    });
    const exchanged = await exchange();
    expect(exchanged.status).toBe(200);
    expect(decodeJwt(exchanged.body.access_token as string)).toMatchObject({ sub: orders.clientId, act: { sub: payments.clientId }, scope: 'ledger:append' });

    expect((await call('GET', `/exchange-policies/${added.body!.id}`)).body).toEqual(added.body);
    expect((await call('DELETE', `/exchange-policies/${added.body!.id}`)).status).toBe(204);
    expect((await exchange()).body.error).toBe('unauthorized_client');
    expect(await call('GET', `/exchange-policies/${added.body!.id}`)).toMatchObject({ status: 404 });
    expect(await call('DELETE', `/exchange-policies/${added.body!.id}`)).toMatchObject({ status: 404 });

    const types = (await t.runtime.admin.listAuditEvents({ type: 'exchange_policy.added' })).items.concat(
      (await t.runtime.admin.listAuditEvents({ type: 'exchange_policy.removed' })).items,
    );
    expect(types.map((event) => [event.type, event.data.policyId])).toEqual([
      ['exchange_policy.added', added.body!.id],
      ['exchange_policy.removed', added.body!.id],
    ]);
  });

  it('lists policies oldest first, by exchanging client and by API, and pages', async () => {
    const add = (body: Record<string, unknown>) => call('POST', '/exchange-policies', root, body);
    const first = (await add({ client_id: payments.clientId, subject_client_id: orders.clientId, api: LEDGER })).body!;
    t.clock.advance(1000);
    const second = (await add({ client_id: payments.clientId, subject_issuer: GITHUB, api: PAYMENTS })).body!;
    t.clock.advance(1000);
    const third = (await add({ client_id: orders.clientId, subject_client_id: '*', api: LEDGER })).body!;
    const ids = (body: Record<string, any> | undefined) => (body!.items as { id: string }[]).map((item) => item.id);
    expect(ids((await call('GET', '/exchange-policies')).body)).toEqual([first.id, second.id, third.id]);
    expect(ids((await call('GET', `/exchange-policies?client_id=${payments.clientId}`)).body)).toEqual([first.id, second.id]);
    expect(ids((await call('GET', `/exchange-policies?api=${encodeURIComponent(LEDGER)}`)).body)).toEqual([first.id, third.id]);
    expect(ids((await call('GET', `/exchange-policies?client_id=${orders.clientId}&api=${encodeURIComponent(PAYMENTS)}`)).body)).toEqual([]);
    const page = (await call('GET', '/exchange-policies?limit=2')).body!;
    expect(ids(page)).toEqual([first.id, second.id]);
    expect(ids((await call('GET', `/exchange-policies?limit=2&cursor=${page.next_cursor as string}`)).body)).toEqual([third.id]);
  });

  it('refuses the admin API as a target, whatever else the request says', async () => {
    for (const api of [ADMIN_API_IDENTIFIER, 'URN:M2M-AUTH:admin', 'urn:m2m-auth:other']) {
      const refused = await call('POST', '/exchange-policies', root, { client_id: payments.clientId, subject_client_id: orders.clientId, api });
      expect(refused).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ field: 'api' })] } });
      expect(refused.body!.detail).toMatch(/never obtained by token exchange/);
    }
    expect(await t.runtime.storage.listExchangePolicies()).toEqual([]);
  });

  it('checks what a policy names: clients, API, subject, issuer and scopes', async () => {
    const base = { client_id: payments.clientId, subject_client_id: orders.clientId, api: LEDGER };
    const refused = async (body: Record<string, unknown>) => (await call('POST', '/exchange-policies', root, body)).body!;
    expect(await refused({ ...base, client_id: 'ghost' })).toMatchObject({ status: 404, detail: expect.stringContaining('No client with id ghost') });
    expect(await refused({ ...base, subject_client_id: 'ghost' })).toMatchObject({ status: 404, detail: expect.stringContaining('subject_client_id') });
    expect(await refused({ ...base, api: 'https://nope.example' })).toMatchObject({ status: 404 });
    expect(await refused({ client_id: payments.clientId, subject_issuer: 'https://nope.example', api: LEDGER })).toMatchObject({ status: 404 });
    expect(await refused({ ...base, subject_issuer: GITHUB })).toMatchObject({ status: 400, detail: expect.stringContaining('exactly one subject') });
    expect(await refused({ client_id: payments.clientId, api: LEDGER })).toMatchObject({ status: 400, detail: expect.stringContaining('exactly one subject') });
    expect(await refused({ ...base, scopes: ['payments:charge'] })).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'scopes' })] });
    expect(await refused({ ...base, scopes: [] })).toMatchObject({ status: 400, detail: expect.stringContaining('leave it out for no ceiling') });
    expect(await refused({ ...base, unknown: true })).toMatchObject({ status: 400 });
    expect(await t.runtime.storage.listExchangePolicies()).toEqual([]);

    expect((await call('POST', '/exchange-policies', root, base)).status).toBe(201);
    expect(await refused({ ...base, scopes: ['ledger:read'] })).toMatchObject({ status: 409, detail: expect.stringContaining('remove it first') });
  });

  it('exchange-policies:read reads, exchange-policies:write writes; grants:write is not enough', async () => {
    const body = { client_id: payments.clientId, subject_client_id: orders.clientId, api: LEDGER };
    const grantsWriter = await adminWith(['grants:write', 'grants:read', 'clients:write']);
    const denied = await call('POST', '/exchange-policies', grantsWriter, body);
    expect(denied).toMatchObject({ status: 403, body: { required_scope: 'exchange-policies:write' } });
    expect(denied.headers['www-authenticate']).toMatch(/scope="exchange-policies:write"/);
    expect(await call('GET', '/exchange-policies', grantsWriter)).toMatchObject({ status: 403, body: { required_scope: 'exchange-policies:read' } });

    const writer = await adminWith(['exchange-policies:write']);
    const added = await call('POST', '/exchange-policies', writer, body);
    expect(added.status).toBe(201);
    expect(await call('GET', `/exchange-policies/${added.body!.id}`, writer)).toMatchObject({ status: 403 });
    const reader = await adminWith(['exchange-policies:read']);
    expect((await call('GET', `/exchange-policies/${added.body!.id}`, reader)).status).toBe(200);
    expect(await call('DELETE', `/exchange-policies/${added.body!.id}`, reader)).toMatchObject({ status: 403 });
    expect((await call('DELETE', `/exchange-policies/${added.body!.id}`, writer)).status).toBe(204);
  });

  it('a policy goes with its exchanging client, its API and its issuer (named in their audit events); one naming a deleted subject client stays and matches nothing', async () => {
    const add = async (body: Record<string, unknown>) => (await call('POST', '/exchange-policies', root, body)).body!.id as string;
    const ofOrders = await add({ client_id: payments.clientId, subject_client_id: orders.clientId, api: LEDGER });
    const ofIssuer = await add({ client_id: payments.clientId, subject_issuer: GITHUB, api: LEDGER });
    const byOrders = await add({ client_id: orders.clientId, subject_client_id: '*', api: PAYMENTS });

    const refused = await call('DELETE', `/trusted-issuers/${encodeURIComponent(GITHUB)}`);
    expect(refused).toMatchObject({ status: 409, body: { exchange_policies: 1 } });
    expect(refused.body!.detail).toContain(`1 exchange policy(ies) (${ofIssuer})`);
    expect((await call('DELETE', `/trusted-issuers/${encodeURIComponent(GITHUB)}?force=true`)).status).toBe(204);
    const [issuerRemoved] = (await t.runtime.admin.listAuditEvents({ type: 'trusted_issuer.removed' })).items;
    expect(issuerRemoved!.data.removedExchangePolicies).toEqual([ofIssuer]);

    expect((await call('DELETE', `/clients/${orders.clientId}`)).status).toBe(204);
    const [clientDeleted] = (await t.runtime.admin.listAuditEvents({ type: 'client.deleted' })).items;
    expect(clientDeleted!.data.deletedExchangePolicies).toEqual([byOrders]);
    expect((await t.runtime.storage.listExchangePolicies()).map((policy) => policy.id)).toEqual([ofOrders]);

    expect((await call('DELETE', `/apis/${encodeURIComponent(LEDGER)}`)).status).toBe(204);
    const [apiDeleted] = (await t.runtime.admin.listAuditEvents({ type: 'api.deleted' })).items;
    expect(apiDeleted!.data.deletedExchangePolicies).toEqual([ofOrders]);
    expect(await t.runtime.storage.listExchangePolicies()).toEqual([]);
  });
});
