import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { basic, createTestApp, ISSUER, postToken, seedExampleSystem, verifyWithJwks, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let client: { clientId: string; clientSecret: string };
beforeEach(async () => {
  t = await createTestApp();
  client = await seedExampleSystem(t.runtime);
});
afterEach(() => t.close());

describe('metadata and keys', () => {
  it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])('%s describes the server (RFC 8414)', async (url) => {
    const response = await t.app.inject({ url });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      scopes_supported: ['inventory:read', 'inventory:write', 'payments:read', 'payments:write'],
    });
  });

  it('publishes public keys only, with kid, alg and use, and a max-age', async () => {
    const response = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    const { keys } = response.json() as { keys: Record<string, unknown>[] };
    expect(keys.map((key) => key.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of keys) {
      expect(key).toMatchObject({ use: 'sig' });
      expect(typeof key.kid).toBe('string');
      for (const privateField of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(privateField);
    }
  });

  it('rotation: the new key signs, the old one stays published so its tokens still verify', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    const before = await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    const oldKid = decodeProtectedHeader(before.body.access_token as string).kid;
    const { key } = await t.runtime.admin.rotateSigningKey('RS256');
    const after = await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    expect(decodeProtectedHeader(after.body.access_token as string).kid).toBe(key.kid);
    expect(key.kid).not.toBe(oldKid);
    const kids = ((await t.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, key.kid]));
    await verifyWithJwks(t.app, before.body.access_token as string, t.clock);
    // Retiring waits until tokens the key signed expired (900 s + 60 s skew; see key-rotation.test.ts).
    t.clock.advance(960_000);
    await t.runtime.admin.retireSigningKey(oldKid!);
    const afterRetire = ((await t.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(afterRetire).not.toContain(oldKid);
  });

  it('healthz and readyz answer', async () => {
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', storage: 'memory' });
  });
});

describe('POST /oauth/introspect (RFC 7662)', () => {
  const introspect = (token: string, authorization?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      payload: new URLSearchParams({ token }).toString(),
    });

  it('reports our valid tokens active with their claims, anything else inactive', async () => {
    const issued = await postToken(
      t.app,
      { grant_type: 'client_credentials', audience: 'https://payments.example' },
      basic(client.clientId, client.clientSecret),
    );
    const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: ['https://payments.example'] });
    const auth = basic(rs.clientId, rs.clientSecret!);
    const active = await introspect(issued.body.access_token as string, auth);
    expect(active.statusCode).toBe(200);
    expect(active.headers['cache-control']).toBe('no-store');
    expect(active.json()).toMatchObject({
      active: true,
      client_id: client.clientId,
      sub: client.clientId,
      aud: 'https://payments.example',
      scope: 'payments:write',
      iss: ISSUER,
      token_type: 'Bearer',
    });
    expect((await introspect('garbage', auth)).json()).toEqual({ active: false });
    t.clock.advance(901_000);
    expect((await introspect(issued.body.access_token as string, auth)).json()).toEqual({ active: false });
  });

  it('reports tokens of a disabled client inactive, and requires client authentication', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    const issued = await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: ['https://payments.example'] });
    expect((await introspect(issued.body.access_token as string, basic(rs.clientId, rs.clientSecret!))).json().active).toBe(true);
    await t.runtime.admin.updateClient(client.clientId, { isEnabled: false });
    expect((await introspect(issued.body.access_token as string, basic(rs.clientId, rs.clientSecret!))).json()).toEqual({ active: false });
    const unauthenticated = await introspect(issued.body.access_token as string);
    expect(unauthenticated.statusCode).toBe(401);
    expect(unauthenticated.json().error).toBe('invalid_client');
  });
});

describe('GET /metrics', () => {
  it('counts issued and refused tokens per client without exposing credentials', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, basic('guessed-id', 'guess'));
    const text = (await t.app.inject({ url: '/metrics' })).body;
    expect(text).toContain(`m2m_auth_tokens_issued_total{client_id="${client.clientId}",audience="https://payments.example"} 1`);
    expect(text).toContain('m2m_auth_token_errors_total{error="invalid_client",client_id="unknown"} 1');
    expect(text).toMatch(/m2m_auth_http_request_duration_seconds_count\{endpoint="token",status="200"\} 1/);
    expect(text).not.toContain('guessed-id');
    expect(text).not.toContain(client.clientSecret);
  });

  it('keeps counting across scrapes: totals, not what happened since the last scrape', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    const issuedLine = (text: string) => text.split('\n').find((line) => line.startsWith(`m2m_auth_tokens_issued_total{client_id="${client.clientId}"`));
    const before = Number(
      issuedLine((await t.app.inject({ url: '/metrics' })).body)
        ?.split(' ')
        .pop() ?? 0,
    );
    for (let i = 0; i < 3; i += 1) await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    expect(issuedLine((await t.app.inject({ url: '/metrics' })).body)).toBe(
      `m2m_auth_tokens_issued_total{client_id="${client.clientId}",audience="https://payments.example"} ${before + 3}`,
    );
    await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, auth);
    expect(issuedLine((await t.app.inject({ url: '/metrics' })).body)?.endsWith(` ${before + 4}`)).toBe(true);
  });
});
