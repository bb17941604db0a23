import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createClock, createTestApp, postToken, basic, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, ADMIN_SCOPES, type AdminScope } from '../../src/admin/built-in-admin-api.js';
import { adminRoutes } from '../../src/http/admin/admin-routes.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { SharedStateUnavailableError } from '../../src/state/resilient-state.js';
import { issueAccessToken } from '../../src/tokens/issue-access-token.js';
import { resolveServerConfig, ConfigError } from '../../src/config/server-config.js';

/**
 * The admin plane as an attacker with one admin token found it (issue 19): a revoked admin token
 * kept working, a 24 h admin grant was accepted, and an admin client with one write scope could
 * make itself a full admin. Each test calls the admin API the way that attacker did.
 */
const ORDERS = 'https://orders.example';
const ALL_ADMIN_SCOPES = ADMIN_SCOPES.map((scope) => scope.value);
const enc = encodeURIComponent;

let t: TestApp;
afterEach(() => t?.close());

async function setUp(runtime: Parameters<typeof createTestApp>[0] = {}) {
  t = await createTestApp(runtime);
  const boot = await t.runtime.admin.bootstrapAdminClient();
  return { boot, root: await bearerFor(boot.clientId, boot.clientSecret) };
}

async function tokenFor(clientId: string, secret: string, audience = ADMIN_API_IDENTIFIER) {
  return postToken(t.app, { grant_type: 'client_credentials', audience }, basic(clientId, secret));
}

async function bearerFor(clientId: string, secret: string) {
  const token = await tokenFor(clientId, secret);
  expect(token.status).toBe(200);
  return { authorization: `Bearer ${token.body.access_token as string}` };
}

let admins = 0;
/** An admin client holding exactly `scopes`, made by the local operator (names are unique and at most 200 characters). */
async function adminWith(scopes: AdminScope[]) {
  const client = await t.runtime.admin.createClient({ name: `admin-${(admins += 1)}-${scopes.join('-') || 'none'}`.slice(0, 200) });
  await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
  return { clientId: client.clientId, secret: client.clientSecret!, headers: await bearerFor(client.clientId, client.clientSecret!) };
}

/** The fields of admin answers these tests read: problem details, and a client's introspection permission. */
type Problem = { type?: string; status?: number; detail?: string; required_scopes?: string[]; introspect_apis?: string[] };

const call = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
  const response = await t.app.inject({
    method: method as 'GET',
    url: `/admin/v1${url}`,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: response.statusCode, headers: response.headers, body: response.body ? (JSON.parse(response.body) as Problem) : undefined };
};

function expectInsufficient(response: Awaited<ReturnType<typeof call>>, scopes: string[]) {
  expect(response.status).toBe(403);
  expect(response.body).toMatchObject({ type: 'urn:m2m-auth:problem:insufficient-scope', status: 403, required_scopes: [...scopes].sort() });
  expect(response.headers['www-authenticate']).toBe(`Bearer realm="m2m-auth-admin", error="insufficient_scope", scope="${[...scopes].sort().join(' ')}"`);
}

describe('admin tokens: revocation and lifetime', () => {
  it('an admin token revoked at /oauth/revoke is refused by every admin route, reads and writes alike', async () => {
    const { boot, root } = await setUp();
    expect((await call('GET', '/apis', root)).status).toBe(200);
    const revoked = await postToken(t.app, { token: root.authorization.slice('Bearer '.length) }, basic(boot.clientId, boot.clientSecret), {
      url: '/oauth/revoke',
    });
    expect(revoked.status).toBe(200);
    const routes = adminRoutes();
    expect(new Set(routes.map((route) => route.method))).toEqual(new Set(['GET', 'POST', 'PATCH', 'DELETE']));
    for (const route of routes) {
      const response = await call(route.method, route.url.replace(/:(\w+)/g, 'x'), root, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
      expect(response.status, `${route.method} ${route.url}`).toBe(401);
      expect(response.body).toMatchObject({ type: 'urn:m2m-auth:problem:invalid-token', detail: 'The token has been revoked' });
      expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
    // A new token of the same client still works: revocation is per token.
    expect((await call('GET', '/apis', await bearerFor(boot.clientId, boot.clientSecret))).status).toBe(200);
  });

  it('when the shared state cannot say whether an admin token is revoked: 503 with Retry-After, never accepted', async () => {
    const clock = createClock();
    const memory = createMemoryState({ now: clock.now });
    let isAway = false;
    // What the resilient state does while Redis is away: a fail-closed check throws its typed error.
    const state = new Proxy(memory, {
      get(target, property, receiver) {
        if (property === 'isTokenRevoked' && isAway) return () => Promise.reject(new SharedStateUnavailableError('isTokenRevoked'));
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { root } = await setUp({ clock, runtime: { state } });
    isAway = true;
    for (const [method, url] of [
      ['GET', '/clients'],
      ['POST', '/apis'],
    ] as const) {
      const response = await call(method, url, root, method === 'POST' ? { identifier: ORDERS } : undefined);
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ type: 'urn:m2m-auth:problem:service-unavailable', status: 503 });
    }
    expect((await t.runtime.admin.listApis()).items.map((api) => api.identifier)).not.toContain(ORDERS);
    isAway = false;
    expect((await call('GET', '/clients', root)).status).toBe(200);
  });

  it('a grant on the admin API may not give tokens longer than 300 s: refused on the admin API, the CLI operations and apply', async () => {
    const { root } = await setUp();
    const ci = await t.runtime.admin.createClient({ name: 'ci' });
    const day = await call('POST', '/grants', root, { client_id: ci.clientId, api: ADMIN_API_IDENTIFIER, scopes: ['apis:read'], token_ttl_seconds: 86_400 });
    expect(day.status).toBe(400);
    expect(day.body!.detail).toMatch(/admin tokens live at most 300 seconds/);
    await expect(
      t.runtime.admin.createGrant({ clientId: ci.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['apis:read'], tokenTtlSeconds: 86_400 }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    const grant = await t.runtime.admin.createGrant({
      clientId: ci.clientId,
      apiIdentifier: ADMIN_API_IDENTIFIER,
      scopes: ['apis:read'],
      tokenTtlSeconds: 120,
    });
    expect((await call('PATCH', `/grants/${grant.id}`, root, { token_ttl_seconds: 86_400 })).status).toBe(400);
    const document = {
      version: 1,
      clients: [{ client_id: ci.clientId, name: 'ci' }],
      grants: [{ client: ci.clientId, api: ADMIN_API_IDENTIFIER, scopes: ['apis:read'], token_ttl_seconds: 86_400 }],
    };
    const applied = await call('POST', '/config/apply', root, document);
    expect(applied.status).toBe(400);
    expect(applied.body!.detail).toMatch(/grants\[0\]\.token_ttl_seconds: admin tokens live at most 300 seconds/);
    // The admin API itself cannot be given a longer lifetime either.
    expect((await call('PATCH', `/apis/${enc(ADMIN_API_IDENTIFIER)}`, root, { token_ttl_seconds: 86_400 })).status).toBe(403);
  });

  it('a 24 h admin grant already in the database yields tokens of at most the maximum', async () => {
    const { boot } = await setUp();
    const grant = await t.runtime.storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER);
    await t.runtime.storage.updateGrant(grant!.id, { tokenTtlSeconds: 86_400 }, t.clock.now());
    await t.runtime.registry.refresh();
    const token = await tokenFor(boot.clientId, boot.clientSecret);
    expect(token.body.expires_in).toBe(300);
    const claims = decodeJwt(token.body.access_token as string);
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('a lower configured maximum clamps admin tokens and refuses longer-lived ones; it cannot be raised', async () => {
    const { boot, root } = await setUp({ runtime: { adminTokenMaxTtlSeconds: 60 } });
    const token = await tokenFor(boot.clientId, boot.clientSecret);
    expect(token.body.expires_in).toBe(60);
    expect((await call('GET', '/apis', root)).status).toBe(200);
    // A token minted for longer (before the maximum was lowered) is refused, not honoured.
    const signer = (await t.runtime.registry.keyRing()).signerFor('RS256', ADMIN_API_IDENTIFIER)!;
    const long = await issueAccessToken({ now: t.clock.now, newJti: () => 'long-lived' }, signer, {
      issuer: t.runtime.issuer,
      clientId: boot.clientId,
      audience: ADMIN_API_IDENTIFIER,
      scopes: ['apis:read'],
      ttlSeconds: 300,
    });
    const refused = await call('GET', '/apis', { authorization: `Bearer ${long.accessToken}` });
    expect(refused.status).toBe(401);
    expect(refused.body!.detail).toBe('Admin tokens may live at most 60 seconds');
    const ci = await t.runtime.admin.createClient({ name: 'ci' });
    expect(
      (await call('POST', '/grants', root, { client_id: ci.clientId, api: ADMIN_API_IDENTIFIER, scopes: ['apis:read'], token_ttl_seconds: 120 })).status,
    ).toBe(400);

    expect(resolveServerConfig({ adminTokenMaxTtl: '120' }, {}).adminTokenMaxTtlSeconds).toBe(120);
    expect(resolveServerConfig({}, {}).adminTokenMaxTtlSeconds).toBe(300);
    expect(() => resolveServerConfig({ adminTokenMaxTtl: '86400' }, {})).toThrow(ConfigError);
    expect(() => resolveServerConfig({}, { M2M_AUTH_ADMIN_TOKEN_MAX_TTL: '301' })).toThrow(/can be lowered, never raised/);
  });

  it('accepts the Bearer scheme in any case (RFC 7235 §2.1)', async () => {
    const { root } = await setUp();
    const token = root.authorization.slice('Bearer '.length);
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) expect((await call('GET', '/apis', { authorization: `${scheme} ${token}` })).status).toBe(200);
  });
});

describe('least privilege: nobody confers what they do not hold', () => {
  it('grants:write alone grants any other API (the README promise) but no admin scope it lacks, to itself or another', async () => {
    const { boot } = await setUp();
    await t.runtime.admin.createApi({ identifier: ORDERS, scopes: ['read:orders'] });
    const service = await t.runtime.admin.createClient({ name: 'svc' });
    const ci = await adminWith(['grants:write']);
    expect((await call('POST', '/grants', ci.headers, { client_id: service.clientId, api: ORDERS, scopes: ['read:orders'] })).status).toBe(201);

    expectInsufficient(
      await call('POST', '/grants', ci.headers, { client_id: service.clientId, api: ADMIN_API_IDENTIFIER, scopes: ALL_ADMIN_SCOPES }),
      ALL_ADMIN_SCOPES.filter((scope) => scope !== 'grants:write'),
    );
    const [own] = (await t.runtime.admin.listGrants({ clientId: ci.clientId })).items;
    expectInsufficient(await call('PATCH', `/grants/${own!.id}`, ci.headers, { scopes: ['grants:write', 'clients:write'] }), ['clients:write']);
    const [root] = (await t.runtime.admin.listGrants({ clientId: boot.clientId })).items;
    const others = ALL_ADMIN_SCOPES.filter((scope) => scope !== 'grants:write');
    expectInsufficient(await call('PATCH', `/grants/${root!.id}`, ci.headers, { token_ttl_seconds: 60 }), others);
    expectInsufficient(await call('DELETE', `/grants/${root!.id}`, ci.headers), others);
    // What it holds it may pass on.
    expect((await call('POST', '/grants', ci.headers, { client_id: service.clientId, api: ADMIN_API_IDENTIFIER, scopes: ['grants:write'] })).status).toBe(201);
    expect((await t.runtime.admin.getGrant(root!.id)).scopes).toEqual(ALL_ADMIN_SCOPES);
  });

  it('clients:write cannot take over a client holding admin scopes or an introspection permission, but manages ordinary ones', async () => {
    const { boot } = await setUp();
    const service = await t.runtime.admin.createClient({ name: 'svc' });
    const introspector = await t.runtime.admin.createClient({ name: 'resource-server', introspectApis: ['*'] });
    const ci = await adminWith(['clients:write']);
    const rootNeeds = ALL_ADMIN_SCOPES.filter((scope) => scope !== 'clients:write');
    const jwks = {
      keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'attacker' }],
    };
    for (const [method, url, payload] of [
      ['POST', `/clients/${boot.clientId}/secrets`, {}],
      ['POST', `/clients/${boot.clientId}/secrets/rotate`, {}],
      ['PATCH', `/clients/${boot.clientId}`, { jwks, token_endpoint_auth_methods: ['private_key_jwt'] }],
      ['PATCH', `/clients/${boot.clientId}`, { token_endpoint_auth_methods: ['client_secret_post'] }],
      ['DELETE', `/clients/${boot.clientId}`, undefined],
    ] as const) {
      expectInsufficient(await call(method, url, ci.headers, payload), rootNeeds);
    }
    expectInsufficient(await call('POST', `/clients/${introspector.clientId}/secrets`, ci.headers, {}), ['introspection:write']);
    // Disabling a greater admin would lock it out of the admin plane, so it needs what that admin
    // holds, as deleting does; enabling again gives back what the client holds.
    expectInsufficient(await call('PATCH', `/clients/${boot.clientId}`, ci.headers, { enabled: false }), rootNeeds);
    expect((await t.runtime.admin.getClient(boot.clientId)).client.isEnabled).toBe(true);
    await t.runtime.admin.updateClient(boot.clientId, { isEnabled: false });
    expectInsufficient(await call('PATCH', `/clients/${boot.clientId}`, ci.headers, { enabled: true }), rootNeeds);
    await t.runtime.admin.updateClient(boot.clientId, { isEnabled: true });
    // An ordinary client it may disable and enable.
    expect((await call('PATCH', `/clients/${service.clientId}`, ci.headers, { enabled: false })).status).toBe(200);
    expect((await call('PATCH', `/clients/${service.clientId}`, ci.headers, { enabled: true })).status).toBe(200);
    expect((await call('PATCH', `/clients/${boot.clientId}`, ci.headers, { name: 'renamed' })).status).toBe(200);
    expect(await t.runtime.admin.listClientSecrets(boot.clientId)).toHaveLength(1);

    expect((await call('POST', `/clients/${service.clientId}/secrets`, ci.headers, {})).status).toBe(201);
    expect((await call('PATCH', `/clients/${service.clientId}`, ci.headers, { jwks })).status).toBe(200);
  });

  it('an introspection permission needs introspection:write, on create, update and apply', async () => {
    await setUp();
    const service = await t.runtime.admin.createClient({ name: 'svc' });
    const ci = await adminWith(['clients:write', 'grants:write', 'apis:write']);
    expectInsufficient(await call('POST', '/clients', ci.headers, { name: 'spy', introspect_apis: ['*'] }), ['introspection:write']);
    expectInsufficient(await call('PATCH', `/clients/${service.clientId}`, ci.headers, { introspect_apis: ['*'] }), ['introspection:write']);
    const document = { version: 1, clients: [{ client_id: service.clientId, name: 'svc', introspect_apis: ['*'] }] };
    expectInsufficient(await call('POST', '/config/apply?dry_run=true', ci.headers, document), ['introspection:write']);
    expectInsufficient(await call('POST', '/config/apply', ci.headers, document), ['introspection:write']);
    expect((await t.runtime.admin.getClient(service.clientId)).client.introspectApis ?? []).toEqual([]);

    const trusted = await adminWith(['clients:write', 'introspection:write']);
    expect((await call('PATCH', `/clients/${service.clientId}`, trusted.headers, { introspect_apis: ['*'] })).body!.introspect_apis).toEqual(['*']);
  });

  it('apply is no bypass: the same rules through the same writes, its plan (dry run) included', async () => {
    const { boot } = await setUp();
    const ci = await adminWith(['apis:write', 'clients:write', 'grants:write']);
    const escalate = {
      version: 1,
      clients: [{ name: 'helper' }],
      grants: [{ client: 'helper', api: ADMIN_API_IDENTIFIER, scopes: ['keys:write', 'grants:write'] }],
    };
    for (const query of ['?dry_run=true', '']) {
      const response = await call('POST', `/config/apply${query}`, ci.headers, escalate);
      expectInsufficient(response, ['keys:write']);
      expect(response.body!.detail).toMatch(/grants\[0\] \(create grant helper → urn:m2m-auth:admin\): needs keys:write/);
    }
    const takeover = { version: 1, clients: [{ client_id: boot.clientId, name: 'm2m-auth-admin', token_endpoint_auth_methods: ['client_secret_post'] }] };
    expectInsufficient(
      await call('POST', '/config/apply', ci.headers, takeover),
      ALL_ADMIN_SCOPES.filter((scope) => !['apis:write', 'clients:write', 'grants:write'].includes(scope)),
    );
    expect((await t.runtime.admin.listClients()).items.map((client) => client.name)).not.toContain('helper');
    // Within its own scopes it applies as before.
    const fine = { version: 1, clients: [{ name: 'helper' }], grants: [{ client: 'helper', api: ADMIN_API_IDENTIFIER, scopes: ['grants:write'] }] };
    expect((await call('POST', '/config/apply', ci.headers, fine)).status).toBe(200);
  });

  it('apis:write cannot widen the admin API (scopes, lifetime), nor create a look-alike of the reserved prefix', async () => {
    const { root } = await setUp();
    const ci = await adminWith(['apis:write']);
    for (const headers of [ci.headers, root]) {
      expect((await call('PATCH', `/apis/${enc(ADMIN_API_IDENTIFIER)}`, headers, { scopes: ['apis:read', 'everything'] })).status).toBe(403);
      expect((await call('PATCH', `/apis/${enc(ADMIN_API_IDENTIFIER)}`, headers, { token_ttl_seconds: 3600 })).status).toBe(403);
    }
    for (const identifier of ['URN:M2M-AUTH:ADMIN', 'urn:M2M-Auth:other', 'Urn:m2m-auth:admin2']) {
      const created = await call('POST', '/apis', root, { identifier, scopes: ['apis:write'] });
      expect(created.status, identifier).toBe(400);
      expect(created.body!.detail).toMatch(/reserved for m2m-auth/);
      const applied = await call('POST', '/config/apply', root, { version: 1, apis: [{ identifier }] });
      expect(applied.status, identifier).toBe(400);
      expect(applied.body!.detail).toMatch(/apis\[0\]\.identifier: identifiers starting with urn:m2m-auth: are reserved/);
    }
  });
});

describe('apply --prune keeps an admin in charge', () => {
  it('refuses to delete the calling admin client (or its admin grant) unless allow_admin_deletion=true', async () => {
    const { boot, root } = await setUp();
    const other = await adminWith(ALL_ADMIN_SCOPES as AdminScope[]);
    const withoutCaller = {
      version: 1,
      clients: [{ client_id: other.clientId, name: 'other' }],
      grants: [{ client: other.clientId, api: ADMIN_API_IDENTIFIER, scopes: ALL_ADMIN_SCOPES }],
    };
    for (const query of ['?prune=true', '?prune=true&dry_run=true']) {
      const refused = await call('POST', `/config/apply${query}`, root, withoutCaller);
      expect(refused.status).toBe(409);
      expect(refused.body!.detail).toMatch(/would delete the calling admin client .* allow_admin_deletion=true/);
    }
    const keepsClientOnly = {
      ...withoutCaller,
      clients: [
        ...withoutCaller.clients,
        { client_id: boot.clientId, name: 'm2m-auth-admin', default_api: ADMIN_API_IDENTIFIER, description: 'Admin client created by bootstrap' },
      ],
    };
    expect((await call('POST', '/config/apply?prune=true', root, keepsClientOnly)).status).toBe(409);
    expect((await t.runtime.admin.getClient(boot.clientId)).client.clientId).toBe(boot.clientId);
    const allowed = await call('POST', '/config/apply?prune=true&allow_admin_deletion=true', root, withoutCaller);
    expect(allowed.status).toBe(200);
    await expect(t.runtime.admin.getClient(boot.clientId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses to delete the last client holding admin scopes (the local operator too) unless asked to', async () => {
    const { boot } = await setUp();
    const empty = { version: 1 };
    await expect(t.runtime.admin.applyConfig(empty, { prune: true })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/last client holding admin scopes.*--allow-delete-admin/),
    });
    const other = await adminWith(['audit:read']);
    const keepsOther = {
      version: 1,
      clients: [{ client_id: other.clientId, name: 'other' }],
      grants: [{ client: other.clientId, api: ADMIN_API_IDENTIFIER, scopes: ['audit:read'] }],
    };
    expect((await t.runtime.admin.applyConfig(keepsOther, { prune: true })).applied).toBe(true);
    await expect(t.runtime.admin.getClient(boot.clientId)).rejects.toMatchObject({ code: 'not_found' });
  });
});
