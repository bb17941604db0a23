import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { basic, createTestApp, form, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';

const PAYMENTS = 'https://payments.example';
const INVENTORY = 'https://inventory.example';

let t: TestApp;
let caller: { clientId: string; clientSecret: string };
let paymentsApi: string;

beforeEach(async () => {
  t = await createTestApp();
  caller = await seedExampleSystem(t.runtime);
  const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
  paymentsApi = basic(rs.clientId, rs.clientSecret!);
});
afterEach(() => t.close());

const issue = async (audience = PAYMENTS) =>
  (await postToken(t.app, { grant_type: 'client_credentials', audience }, basic(caller.clientId, caller.clientSecret))).body.access_token as string;

async function introspect(token: string, authorization: string) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    payload: form({ token }),
  });
  return response.json() as Record<string, unknown>;
}

const revoke = (params: Record<string, string>, authorization?: string) => postToken(t.app, params, authorization, { url: '/oauth/revoke' });

describe('introspection answers only callers allowed to see the token (RFC 7662 §4)', () => {
  it('an unrelated client — even the token’s own — learns nothing: {"active": false}', async () => {
    const token = await issue();
    const stranger = await t.runtime.admin.createClient({ name: 'stranger' });
    expect(await introspect(token, basic(stranger.clientId, stranger.clientSecret!))).toEqual({ active: false });
    expect(await introspect(token, basic(caller.clientId, caller.clientSecret))).toEqual({ active: false });
    expect(await introspect(token, paymentsApi)).toMatchObject({ active: true, aud: PAYMENTS });
  });

  it('a permission covers the APIs it names, or every API with *', async () => {
    const inventoryToken = await issue(INVENTORY);
    expect(await introspect(inventoryToken, paymentsApi)).toEqual({ active: false });
    const gateway = await t.runtime.admin.createClient({ name: 'gateway', introspectApis: ['*'] });
    expect(await introspect(inventoryToken, basic(gateway.clientId, gateway.clientSecret!))).toMatchObject({ active: true, aud: INVENTORY });
  });

  it('a token of a disabled or deleted client is inactive', async () => {
    const token = await issue();
    await t.runtime.admin.updateClient(caller.clientId, { isEnabled: false });
    expect(await introspect(token, paymentsApi)).toEqual({ active: false });
    await t.runtime.admin.updateClient(caller.clientId, { isEnabled: true });
    expect((await introspect(token, paymentsApi)).active).toBe(true);
    await t.runtime.admin.deleteClient(caller.clientId);
    expect(await introspect(token, paymentsApi)).toEqual({ active: false });
  });

  it('a token whose grant was deleted, or narrowed below the token’s scopes, is inactive', async () => {
    const token = await issue();
    const [grant] = (await t.runtime.admin.listGrants({ clientId: caller.clientId, apiIdentifier: PAYMENTS })).items;
    await t.runtime.admin.updateGrant(grant!.id, { scopes: ['payments:read', 'payments:write'] });
    expect((await introspect(token, paymentsApi)).active).toBe(true);
    await t.runtime.admin.updateGrant(grant!.id, { scopes: ['payments:read'] });
    expect(await introspect(token, paymentsApi)).toEqual({ active: false });
    await t.runtime.admin.deleteGrant(grant!.id);
    expect(await introspect(token, paymentsApi)).toEqual({ active: false });
  });

  it('the permission is set, changed and removed through the admin operations', async () => {
    const rs = await t.runtime.admin.createClient({ name: 'late' });
    const auth = basic(rs.clientId, rs.clientSecret!);
    const token = await issue();
    expect(await introspect(token, auth)).toEqual({ active: false });
    await t.runtime.admin.updateClient(rs.clientId, { introspectApis: [PAYMENTS] });
    expect((await introspect(token, auth)).active).toBe(true);
    await t.runtime.admin.updateClient(rs.clientId, { introspectApis: [] });
    expect(await introspect(token, auth)).toEqual({ active: false });
    await expect(t.runtime.admin.updateClient(rs.clientId, { introspectApis: ['https://typo.example'] })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('the client revokes its own token: 200, and introspection reports it inactive', async () => {
    const token = await issue();
    const response = await revoke({ token, token_type_hint: 'access_token' }, basic(caller.clientId, caller.clientSecret));
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await introspect(token, paymentsApi)).toEqual({ active: false });
    expect(t.logs()).toContain('"event":"token.revoked"');
    expect(t.logs()).not.toContain(token.split('.')[2]!);
  });

  it('another client’s token, an unknown or malformed one: the same 200, and nothing changes', async () => {
    const token = await issue();
    const other = await t.runtime.admin.createClient({ name: 'other' });
    const auth = basic(other.clientId, other.clientSecret!);
    for (const attempt of [token, 'garbage', `${token.slice(0, -4)}AAAA`]) {
      const response = await revoke({ token: attempt }, auth);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({});
    }
    expect((await introspect(token, paymentsApi)).active).toBe(true);
  });

  it('keeps a revoked id only until the token would have expired', async () => {
    const token = await issue();
    const { jti, exp } = decodeJwt(token);
    await revoke({ token }, basic(caller.clientId, caller.clientSecret));
    expect(await t.runtime.state.isTokenRevoked(`rt:${jti}`)).toBe(true);
    t.clock.advance(exp! * 1000 - t.clock.now());
    expect(await t.runtime.state.isTokenRevoked(`rt:${jti}`)).toBe(false);
  });

  it('requires client authentication and a token; answers other methods with 405', async () => {
    const unauthenticated = await revoke({ token: await issue() });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.error).toBe('invalid_client');
    expect(unauthenticated.headers['www-authenticate']).toMatch(/^Basic /);
    const missing = await revoke({}, basic(caller.clientId, caller.clientSecret));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const get = await t.app.inject({ method: 'GET', url: '/oauth/revoke' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });
});

describe('client secrets: several per client, expiry, revocation, last use', () => {
  it('an added secret works alongside the first, until it expires', async () => {
    const added = await t.runtime.admin.addClientSecret(caller.clientId, { expiresInSeconds: 3600 });
    const token = (secret: string) => postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(caller.clientId, secret));
    expect((await token(added.clientSecret)).status).toBe(200);
    expect((await token(caller.clientSecret)).status).toBe(200);
    t.clock.advance(3_600_000);
    expect((await token(added.clientSecret)).status).toBe(401);
    expect((await token(caller.clientSecret)).status).toBe(200);
  });

  it('a revoked secret stops working at once; the others keep working', async () => {
    const added = await t.runtime.admin.addClientSecret(caller.clientId);
    const first = (await t.runtime.admin.listClientSecrets(caller.clientId)).find((secret) => secret.id !== added.secret.id);
    await t.runtime.admin.revokeClientSecret(caller.clientId, first!.id);
    const token = (secret: string) => postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(caller.clientId, secret));
    expect((await token(caller.clientSecret)).status).toBe(401);
    expect((await token(added.clientSecret)).status).toBe(200);
    await expect(t.runtime.admin.revokeClientSecret(caller.clientId, first!.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('records last use without a database write per token: batched, off the request path', async () => {
    const revision = await t.runtime.storage.currentRevision();
    for (let i = 0; i < 5; i++) await issue();
    expect(await t.runtime.storage.listSecretUsage(caller.clientId)).toEqual([]);
    await t.runtime.close(); // flushes the batch (a timer does it every 30 s while running)
    const [secret] = await t.runtime.admin.listClientSecrets(caller.clientId);
    expect(secret!.lastUsedAt).toBe(t.clock.now());
    expect(await t.runtime.storage.currentRevision()).toBe(revision);
  });

  it('refuses an expiry that is not a sensible number of seconds', async () => {
    await expect(t.runtime.admin.addClientSecret(caller.clientId, { expiresInSeconds: 5 })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(t.runtime.admin.addClientSecret('no-such-client')).rejects.toMatchObject({ code: 'not_found' });
  });
});
