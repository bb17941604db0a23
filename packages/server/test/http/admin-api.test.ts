import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, postToken, basic, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, type AdminScope } from '../../src/admin/built-in-admin-api.js';

const ORDERS = 'https://orders.example';
const enc = encodeURIComponent;

describe('admin API /admin/v1', () => {
  let t: TestApp;
  let root: { authorization: string };

  beforeEach(async () => {
    t = await createTestApp();
    const boot = await t.runtime.admin.bootstrapAdminClient();
    root = await bearerFor(boot.clientId, boot.clientSecret);
  });
  afterEach(() => t.close());

  async function bearerFor(clientId: string, secret: string, audience = ADMIN_API_IDENTIFIER) {
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience }, basic(clientId, secret));
    expect(token.status).toBe(200);
    return { authorization: `Bearer ${token.body.access_token as string}` };
  }

  /** An admin client with only some scopes: least privilege works as for any API. */
  async function adminWith(scopes: AdminScope[]) {
    const client = await t.runtime.admin.createClient({ name: `ci-${scopes.join('-')}` });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
    return { clientId: client.clientId, headers: await bearerFor(client.clientId, client.clientSecret!) };
  }

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string> = root, payload?: unknown) => {
    const response = await t.app.inject({ method, url: `/admin/v1${url}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: response.statusCode, headers: response.headers, body: response.body ? (JSON.parse(response.body) as Record<string, any>) : undefined };
  };

  describe('authentication and authorization (RFC 6750)', () => {
    it('401 without a token: a bare challenge, problem details, no-store', async () => {
      const response = await call('GET', '/apis', {});
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="m2m-auth-admin"');
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toMatchObject({ type: 'urn:m2m-auth:problem:unauthorized', status: 401 });
    });

    it('401 invalid_token for a malformed header, a forged signature, a token for another API, an expired token', async () => {
      await t.runtime.admin.createApi({ identifier: ORDERS, scopes: ['read:orders'] });
      const other = await t.runtime.admin.createClient({ name: 'orders-caller' });
      await t.runtime.admin.createGrant({ clientId: other.clientId, apiIdentifier: ORDERS, scopes: ['read:orders'] });
      const wrongAudience = await bearerFor(other.clientId, other.clientSecret!, ORDERS);
      const [header, payload, signature] = root.authorization.slice(7).split('.');
      const forged = { authorization: `Bearer ${header}.${payload}.${signature!.slice(0, -4)}AAAA` };
      for (const [headers, reason] of [
        [{ authorization: 'Basic abc' }, /Bearer/],
        [{ authorization: 'Bearer not-a-jwt' }, /malformed/],
        [forged, /signature/],
        [wrongAudience, /not for urn:m2m-auth:admin/],
      ] as const) {
        const response = await call('GET', '/apis', headers);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="m2m-auth-admin", error="invalid_token", error_description="/);
        expect(response.body!.detail).toMatch(reason);
      }
      t.clock.advance(301_000 + 5_000);
      const expired = await call('GET', '/apis');
      expect(expired.status).toBe(401);
      expect(expired.body!.detail).toBe('The token has expired');
    });

    it('a disabled admin client or a narrowed grant takes effect at once, before its token expires', async () => {
      const ci = await adminWith(['apis:read', 'clients:read']);
      expect((await call('GET', '/clients', ci.headers)).status).toBe(200);
      const [grant] = (await t.runtime.admin.listGrants({ clientId: ci.clientId })).items;
      await t.runtime.admin.updateGrant(grant!.id, { scopes: ['apis:read'] });
      expect((await call('GET', '/clients', ci.headers)).status).toBe(403);
      await t.runtime.admin.updateClient(ci.clientId, { isEnabled: false });
      expect((await call('GET', '/apis', ci.headers)).status).toBe(401);
    });

    it('403 insufficient_scope names the missing scope; a grants-only CI job can create grants and nothing else', async () => {
      await t.runtime.admin.createApi({ identifier: ORDERS, scopes: ['read:orders'] });
      const service = await t.runtime.admin.createClient({ name: 'svc' });
      const ci = await adminWith(['grants:write']);
      const denied = await call('POST', '/clients', ci.headers, { name: 'sneaky' });
      expect(denied.status).toBe(403);
      expect(denied.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="clients:write"/);
      expect(denied.body).toMatchObject({ type: 'urn:m2m-auth:problem:insufficient-scope', required_scope: 'clients:write' });
      expect((await call('GET', '/grants', ci.headers)).status).toBe(403);
      const created = await call('POST', '/grants', ci.headers, { client_id: service.clientId, api: ORDERS, scopes: ['read:orders'] });
      expect(created.status).toBe(201);
    });

    it('refuses before parsing: an unauthenticated caller with a bad body gets 401, not 400', async () => {
      const response = await t.app.inject({ method: 'POST', url: '/admin/v1/apis', headers: { 'content-type': 'application/json' }, payload: '{not json' });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('APIs', () => {
    it('create, show (percent-encoded identifier), list with a cursor, update, delete', async () => {
      const created = await call('POST', '/apis', root, {
        identifier: ORDERS,
        name: 'Orders',
        scopes: ['read:orders', { value: 'write:orders', description: 'Place orders' }],
        token_ttl_seconds: 600,
      });
      expect(created.status).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      expect(created.body).toMatchObject({
        identifier: ORDERS,
        name: 'Orders',
        signing_alg: 'RS256',
        token_ttl_seconds: 600,
        scopes: [
          { value: 'read:orders', description: '' },
          { value: 'write:orders', description: 'Place orders' },
        ],
      });
      expect((await call('GET', `/apis/${enc(ORDERS)}`)).body).toEqual(created.body);
      for (const n of [1, 2, 3]) await call('POST', '/apis', root, { identifier: `https://api${n}.example` });

      const first = await call('GET', '/apis?limit=2');
      expect(first.body!.items).toHaveLength(2);
      const seen = [...first.body!.items];
      let cursor = first.body!.next_cursor as string | null;
      while (cursor) {
        const page = await call('GET', `/apis?limit=2&cursor=${enc(cursor)}`);
        seen.push(...page.body!.items);
        cursor = page.body!.next_cursor;
      }
      expect(new Set(seen.map((api: { identifier: string }) => api.identifier)).size).toBe(5); // four + the built-in admin API

      const updated = await call('PATCH', `/apis/${enc(ORDERS)}`, root, { token_ttl_seconds: 300 });
      expect(updated.body).toMatchObject({ token_ttl_seconds: 300, name: 'Orders' });
      expect((await call('DELETE', `/apis/${enc(ORDERS)}`)).status).toBe(204);
      expect((await call('GET', `/apis/${enc(ORDERS)}`)).status).toBe(404);
    });

    it('answers bad input with field-level problem details and changes nothing', async () => {
      const unknownField = await call('POST', '/apis', root, { identifier: ORDERS, scope: ['typo'] });
      expect(unknownField.status).toBe(400);
      expect(unknownField.body).toMatchObject({
        type: 'urn:m2m-auth:problem:validation-failed',
        errors: [{ field: 'scope', message: 'is not a known field' }],
      });
      const wrongType = await call('POST', '/apis', root, { identifier: ORDERS, token_ttl_seconds: '60' });
      expect(wrongType.body!.errors).toEqual([{ field: 'token_ttl_seconds', message: 'must be integer' }]);
      const notUri = await call('POST', '/apis', root, { identifier: 'orders' });
      expect(notUri.body).toMatchObject({ status: 400, errors: [{ field: 'identifier' }] });
      const missing = await call('POST', '/apis', root, {});
      expect(missing.body!.errors).toEqual([{ field: 'identifier', message: 'is required' }]);
      const badCursor = await call('GET', '/apis?cursor=garbage');
      expect(badCursor.body!.errors[0].field).toBe('cursor');
      const badJson = await t.app.inject({
        method: 'POST',
        url: '/admin/v1/apis',
        headers: { ...root, 'content-type': 'application/json' },
        payload: '{"identifier":',
      });
      expect(badJson.statusCode).toBe(400);
      expect(badJson.json()).toMatchObject({ type: 'urn:m2m-auth:problem:malformed-body' });
      const form = await t.app.inject({
        method: 'POST',
        url: '/admin/v1/apis',
        headers: { ...root, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'identifier=x',
      });
      expect(form.statusCode).toBe(415);
      const poisoned = await t.app.inject({
        method: 'POST',
        url: '/admin/v1/apis',
        headers: { ...root, 'content-type': 'application/json' },
        payload: `{"identifier":"${ORDERS}","__proto__":{"isAdmin":true}}`,
      });
      expect(poisoned.statusCode).toBe(400);
      expect((await call('GET', '/apis')).body!.items.map((api: { identifier: string }) => api.identifier)).toEqual([ADMIN_API_IDENTIFIER]);
    });

    it('409 for a duplicate identifier; 404 for an unknown one; the built-in admin API cannot be changed or deleted', async () => {
      await call('POST', '/apis', root, { identifier: ORDERS });
      const duplicate = await call('POST', '/apis', root, { identifier: ORDERS });
      expect(duplicate).toMatchObject({ status: 409, body: { type: 'urn:m2m-auth:problem:conflict' } });
      expect((await call('PATCH', `/apis/${enc('https://nope.example')}`, root, { name: 'x' })).body).toMatchObject({
        status: 404,
        type: 'urn:m2m-auth:problem:not-found',
      });
      expect((await call('DELETE', `/apis/${enc(ADMIN_API_IDENTIFIER)}`)).body).toMatchObject({ status: 403, type: 'urn:m2m-auth:problem:forbidden' });
      expect((await call('PATCH', `/apis/${enc(ADMIN_API_IDENTIFIER)}`, root, { scopes: [] })).status).toBe(403);
      expect((await call('POST', '/apis', root, { identifier: 'urn:m2m-auth:other' })).status).toBe(400);
    });
  });

  describe('clients and secrets', () => {
    it('the secret appears in exactly one answer: the one that created it', async () => {
      const created = await call('POST', '/clients', root, { name: 'billing-service', description: 'bills' });
      expect(created.status).toBe(201);
      const secret = created.body!.client_secret as string;
      expect(secret).toMatch(/^m2msk_/);
      const id = created.body!.client_id as string;
      const answers = [
        await call('GET', `/clients/${id}`),
        await call('GET', '/clients'),
        await call('GET', `/clients/${id}/secrets`),
        await call('GET', '/audit-events'),
        await call('PATCH', `/clients/${id}`, root, { description: 'x' }),
      ];
      for (const answer of answers) expect(JSON.stringify(answer.body)).not.toContain(secret);
      expect(answers[0]!.body).toMatchObject({
        client_id: id,
        name: 'billing-service',
        enabled: true,
        secrets: [{ hint: `…${secret.slice(-4)}`, expires_at: null }],
      });
    });

    it('409 for a client name another client has, on create and on rename; its own name is no conflict', async () => {
      const { body: billing } = await call('POST', '/clients', root, { name: 'billing-service' });
      const again = await call('POST', '/clients', root, { name: 'billing-service' });
      expect(again).toMatchObject({
        status: 409,
        body: {
          type: 'urn:m2m-auth:problem:conflict',
          detail: `A client named "billing-service" already exists (${billing!.client_id}): client names are unique`,
        },
      });
      const { body: reports } = await call('POST', '/clients', root, { name: 'reports' });
      expect((await call('PATCH', `/clients/${reports!.client_id}`, root, { name: 'billing-service' })).status).toBe(409);
      expect((await call('PATCH', `/clients/${billing!.client_id}`, root, { name: 'billing-service', description: 'x' })).status).toBe(200);
      expect((await call('GET', '/clients')).body!.items.map((client: { name: string }) => client.name).sort()).toEqual([
        'billing-service',
        'm2m-auth-admin',
        'reports',
      ]);
    });

    it('disable, rotate a secret with a grace period, delete; 404 for an unknown client', async () => {
      const { body: client } = await call('POST', '/clients', root, { name: 'svc' });
      const disabled = await call('PATCH', `/clients/${client!.client_id}`, root, { enabled: false });
      expect(disabled.body).toMatchObject({ enabled: false });
      const rotated = await call('POST', `/clients/${client!.client_id}/secrets/rotate`, root, { grace_seconds: 60 });
      expect(rotated.status).toBe(201);
      expect(rotated.body!.client_secret).not.toBe(client!.client_secret);
      expect(rotated.body!.previous_secrets_expire_at).toBe(new Date(t.clock.now() + 60_000).toISOString());
      const secrets = await call('GET', `/clients/${client!.client_id}/secrets`);
      expect(secrets.body!.items).toHaveLength(2);
      expect((await call('POST', `/clients/${client!.client_id}/secrets/rotate`, root, { grace_seconds: -1 })).status).toBe(400);
      expect((await call('DELETE', `/clients/${client!.client_id}`)).status).toBe(204);
      expect((await call('GET', `/clients/${client!.client_id}`)).status).toBe(404);
      expect((await call('DELETE', `/clients/${client!.client_id}`)).status).toBe(404);
      expect((await call('POST', '/clients', root, { name: 'pkjwt', token_endpoint_auth_methods: ['private_key_jwt'] })).body).toMatchObject({
        status: 400,
        errors: [{ field: 'jwks' }],
      });
    });
  });

  describe('grants', () => {
    it('create, filter by client and API, update scopes and TTL, delete; conflict and unknown ids', async () => {
      await call('POST', '/apis', root, { identifier: ORDERS, scopes: ['read:orders', 'write:orders'] });
      const { body: a } = await call('POST', '/clients', root, { name: 'a' });
      const { body: b } = await call('POST', '/clients', root, { name: 'b' });
      const grant = await call('POST', '/grants', root, { client_id: a!.client_id, api: ORDERS, scopes: ['read:orders'] });
      expect(grant).toMatchObject({ status: 201, body: { client_id: a!.client_id, api: ORDERS, scopes: ['read:orders'], token_ttl_seconds: null } });
      await call('POST', '/grants', root, { client_id: b!.client_id, api: ORDERS, scopes: ['write:orders'] });
      expect((await call('POST', '/grants', root, { client_id: a!.client_id, api: ORDERS, scopes: [] })).status).toBe(409);
      expect((await call('POST', '/grants', root, { client_id: 'nope', api: ORDERS, scopes: [] })).status).toBe(404);
      expect((await call('POST', '/grants', root, { client_id: b!.client_id, api: ORDERS, scopes: ['admin'] })).body).toMatchObject({
        status: 400,
        errors: [{ field: 'scopes' }],
      });
      expect((await call('GET', `/grants?client_id=${a!.client_id}`)).body!.items).toHaveLength(1);
      expect((await call('GET', `/grants?api=${enc(ORDERS)}`)).body!.items).toHaveLength(2);
      const updated = await call('PATCH', `/grants/${grant.body!.id}`, root, { scopes: ['read:orders', 'write:orders'], token_ttl_seconds: 120 });
      expect(updated.body).toMatchObject({ scopes: ['read:orders', 'write:orders'], token_ttl_seconds: 120 });
      expect((await call('GET', `/grants/${grant.body!.id}`)).body).toEqual(updated.body);
      expect((await call('DELETE', `/grants/${grant.body!.id}`)).status).toBe(204);
      expect((await call('GET', `/grants/${grant.body!.id}`)).status).toBe(404);
    });

    it('deleting an API deletes its grants in the same step', async () => {
      await call('POST', '/apis', root, { identifier: ORDERS, scopes: ['read:orders'] });
      const { body: client } = await call('POST', '/clients', root, { name: 'a' });
      await call('POST', '/grants', root, { client_id: client!.client_id, api: ORDERS, scopes: ['read:orders'] });
      await call('DELETE', `/apis/${enc(ORDERS)}`);
      expect((await call('GET', `/grants?client_id=${client!.client_id}`)).body!.items).toEqual([]);
      const [event] = (await call('GET', '/audit-events?type=api.deleted')).body!.items;
      expect(event.data.deletedGrants).toHaveLength(1);
    });
  });

  describe('signing keys', () => {
    it('lists keys without private parts, rotates, refuses to retire the active key, retires the previous one', async () => {
      const listed = await call('GET', '/keys');
      const [active] = listed.body!.items;
      expect(active).toMatchObject({ alg: 'RS256', status: 'active' });
      expect(JSON.stringify(listed.body)).not.toMatch(/encrypted|private|"d"/i);
      const rotated = await call('POST', '/keys/rotate', root, {});
      expect(rotated).toMatchObject({ status: 201, body: { key: { alg: 'RS256', status: 'active' }, previous: [{ kid: active.kid }] } });
      expect((await call('POST', `/keys/${rotated.body!.key.kid}/retire`)).body).toMatchObject({ status: 400, errors: [{ field: 'kid' }] });
      // Tokens the previous key signed may still be alive: refused unless forced (docs/lifecycle.md).
      expect((await call('POST', `/keys/${active.kid}/retire`)).body).toMatchObject({ status: 400, detail: expect.stringContaining('may be alive until') });
      expect((await call('POST', `/keys/${active.kid}/retire?force=true`)).body).toMatchObject({ kid: active.kid, status: 'retired' });
      // The admin token was signed by the key just retired: it stops verifying, like every token of that key.
      expect((await call('GET', '/keys')).status).toBe(401);
      const boot = await t.runtime.admin.bootstrapAdminClient();
      root = await bearerFor(boot.clientId, boot.clientSecret);
      expect((await call('GET', '/keys/nope')).status).toBe(404);
      expect((await call('POST', '/keys/rotate', root, { alg: 'none' })).status).toBe(400);
    });
  });

  describe('configuration as code', () => {
    const document = {
      version: 1,
      apis: [{ identifier: ORDERS, scopes: ['read:orders'] }],
      clients: [{ name: 'billing-service' }],
      grants: [{ client: 'billing-service', api: ORDERS, scopes: ['read:orders'] }],
    };

    it('plans, applies in one step, is idempotent, and exports what it applied (never a secret)', async () => {
      const dryRun = await call('POST', '/config/apply?dry_run=true', root, document);
      expect(dryRun.status).toBe(200);
      expect(dryRun.body).toMatchObject({ applied: false, created_secrets: [] });
      expect(dryRun.body!.plan.changes.map((change: { action: string; resource: string }) => `${change.action} ${change.resource}`)).toEqual([
        'create api',
        'create client',
        'create grant',
      ]);
      expect((await call('GET', '/apis')).body!.items).toHaveLength(1); // only the built-in one: a dry run writes nothing

      const applied = await call('POST', '/config/apply', root, document);
      expect(applied.body).toMatchObject({ applied: true, created_secrets: [{ resource: 'client', name: 'billing-service' }] });
      const secret = applied.body!.created_secrets[0].client_secret as string;
      expect(secret).toMatch(/^m2msk_/);
      const again = await call('POST', '/config/apply', root, document);
      expect(again.body).toMatchObject({ applied: false, plan: { changes: [] }, created_secrets: [] });

      const exported = await call('GET', '/config');
      expect(exported.body).toMatchObject({
        version: 1,
        apis: [{ identifier: ORDERS }],
        clients: expect.arrayContaining([expect.objectContaining({ name: 'billing-service' }), expect.objectContaining({ name: 'm2m-auth-admin' })]),
      });
      expect(JSON.stringify(exported.body)).not.toContain(secret);
      expect(JSON.stringify((await call('GET', '/audit-events')).body)).not.toContain(secret);
    });

    it('needs every write scope to apply, and answers a bad document with the path that failed', async () => {
      const grantsOnly = await adminWith(['grants:write', 'apis:read', 'clients:read', 'grants:read']);
      expect((await call('GET', '/config', grantsOnly.headers)).status).toBe(200);
      const refused = await call('POST', '/config/apply', grantsOnly.headers, document);
      expect(refused.status).toBe(403);
      expect(refused.headers['www-authenticate']).toMatch(/scope="apis:write"/);
      const bad = await call('POST', '/config/apply', root, { version: 1, clients: [{ name: '' }] });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('clients[0].name');
    });
  });

  describe('audit events', () => {
    it('names the admin client, records changed fields before and after, filters by type, actor and time', async () => {
      const ci = await adminWith(['clients:write', 'audit:read']);
      const { body: client } = await call('POST', '/clients', ci.headers, { name: 'svc' });
      t.clock.advance(10_000);
      await call('PATCH', `/clients/${client!.client_id}`, ci.headers, { name: 'svc-renamed', enabled: false });
      const updated = (await call('GET', '/audit-events?type=client.disabled', ci.headers)).body!.items;
      expect(updated).toHaveLength(1);
      expect(updated[0]).toMatchObject({
        actor: ci.clientId,
        data: { clientId: client!.client_id, changes: { name: { before: 'svc', after: 'svc-renamed' }, enabled: { before: true, after: false } } },
      });
      const byActor = (await call('GET', `/audit-events?actor=${ci.clientId}`, ci.headers)).body!.items;
      expect(byActor.map((event: { type: string }) => event.type)).toEqual(['client.disabled', 'client.created']);
      const since = new Date(t.clock.now()).toISOString();
      expect((await call('GET', `/audit-events?since=${enc(since)}`, ci.headers)).body!.items.map((e: { type: string }) => e.type)).toEqual([
        'client.disabled',
      ]);
      expect(
        (await call('GET', `/audit-events?until=${t.clock.now()}&actor=${ci.clientId}`, ci.headers)).body!.items.map((e: { type: string }) => e.type),
      ).toEqual(['client.created']);
      expect((await call('GET', '/audit-events?since=yesterday', ci.headers)).body).toMatchObject({ status: 400, errors: [{ field: 'since' }] });
    });
  });
});
