import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, jwtVerify, SignJWT, generateKeyPair, exportJWK } from 'jose';
import { basic, createTestApp, ISSUER, postToken, seedExampleSystem, verifyWithJwks, type TestApp } from '../helpers/test-app.js';

const PAYMENTS = 'https://payments.example';
const INVENTORY = 'https://inventory.example';

let t: TestApp;
let client: { clientId: string; clientSecret: string };

beforeEach(async () => {
  t = await createTestApp();
  client = await seedExampleSystem(t.runtime);
});
afterEach(() => t.close());

const cc = (extra: Record<string, string | string[]> = {}) => ({ grant_type: 'client_credentials', ...extra });

function expectOAuthError(response: Awaited<ReturnType<typeof postToken>>, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.body.error).toBe(error);
  expect(typeof response.body.error_description).toBe('string');
  expect(Object.keys(response.body).sort()).toEqual(['error', 'error_description']);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['pragma']).toBe('no-cache');
  expect(response.headers['content-type']).toMatch(/^application\/json/);
}

describe('POST /oauth/token — success', () => {
  it('issues an RFC 9068 JWT for client_secret_basic with the granted scopes', async () => {
    const response = await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret));
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['pragma']).toBe('no-cache');
    expect(Object.keys(response.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'payments:write' });

    const token = response.body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(typeof header.kid).toBe('string');
    const { payload } = await verifyWithJwks(t.app, token, t.clock, PAYMENTS);
    expect(payload).toMatchObject({ iss: ISSUER, sub: client.clientId, aud: PAYMENTS, client_id: client.clientId, scope: 'payments:write' });
    expect(payload.iat).toBe(Math.floor(t.clock.now() / 1000));
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.exp! - payload.iat!).toBe(response.body.expires_in);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts client_secret_post and gives each token a unique jti', async () => {
    const params = cc({ audience: PAYMENTS, client_id: client.clientId, client_secret: client.clientSecret });
    const first = await postToken(t.app, params);
    const second = await postToken(t.app, params);
    expect(first.status).toBe(200);
    const jti = async (token: unknown) => (await verifyWithJwks(t.app, token as string, t.clock)).payload.jti;
    expect(await jti(first.body.access_token)).not.toBe(await jti(second.body.access_token));
  });

  it('takes the audience from resource (RFC 8707) and from scope=<api>/.default (Entra)', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    const viaResource = await postToken(t.app, cc({ resource: INVENTORY }), auth);
    expect(viaResource.body).toMatchObject({ scope: 'inventory:read', expires_in: 600 });
    const viaDefault = await postToken(t.app, cc({ scope: `${PAYMENTS}/.default` }), auth);
    expect(viaDefault.status).toBe(200);
    const { payload } = await verifyWithJwks(t.app, viaDefault.body.access_token as string, t.clock);
    expect(payload).toMatchObject({ aud: PAYMENTS, scope: 'payments:write' });
  });

  it('signs with the API algorithm: ES256 tokens verify against the JWKS', async () => {
    const response = await postToken(t.app, cc({ audience: INVENTORY, scope: 'inventory:read' }), basic(client.clientId, client.clientSecret));
    expect(decodeProtectedHeader(response.body.access_token as string).alg).toBe('ES256');
    await verifyWithJwks(t.app, response.body.access_token as string, t.clock, INVENTORY);
  });

  it.each(['PS256', 'EdDSA'] as const)('signs %s tokens that verify against the JWKS', async (alg) => {
    const api = `https://${alg.toLowerCase()}.example`;
    await t.runtime.admin.createApi({ identifier: api, scopes: ['x'], signingAlg: alg });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: api, scopes: ['x'] });
    const response = await postToken(t.app, cc({ audience: api }), basic(client.clientId, client.clientSecret));
    expect(decodeProtectedHeader(response.body.access_token as string).alg).toBe(alg);
    await verifyWithJwks(t.app, response.body.access_token as string, t.clock, api);
  });

  it('signs HS256 only for an API that asked, with a secret that never appears in the JWKS', async () => {
    const api = 'https://legacy.example';
    const { sharedSecret } = await t.runtime.admin.createApi({ identifier: api, scopes: ['x'], signingAlg: 'HS256' });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: api, scopes: ['x'] });
    const response = await postToken(t.app, cc({ audience: api }), basic(client.clientId, client.clientSecret));
    const token = response.body.access_token as string;
    const { payload } = await jwtVerify(token, Buffer.from(sharedSecret!, 'base64url'), { algorithms: ['HS256'], currentDate: new Date(t.clock.now()) });
    expect(payload.aud).toBe(api);
    const jwks = (await t.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string; alg: string }[] };
    expect(jwks.keys.map((key) => key.alg)).not.toContain('HS256');
    expect(jwks.keys.map((key) => key.kid)).not.toContain(decodeProtectedHeader(token).kid);
  });

  it('uses the default API when no audience is named, and a per-grant TTL override', async () => {
    const svc = await t.runtime.admin.createClient({ name: 'svc', defaultApi: PAYMENTS });
    await t.runtime.admin.createGrant({ clientId: svc.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'], tokenTtlSeconds: 120 });
    const response = await postToken(t.app, cc(), basic(svc.clientId, svc.clientSecret!));
    expect(response.body).toMatchObject({ scope: 'payments:read', expires_in: 120 });
    const { payload } = await verifyWithJwks(t.app, response.body.access_token as string, t.clock, PAYMENTS);
    expect(payload.exp! - payload.iat!).toBe(120);
  });
});

describe('POST /oauth/token — client authentication errors', () => {
  it('answers 401 invalid_client with a Basic challenge for a wrong secret and an unknown client alike', async () => {
    const wrong = await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, `${client.clientSecret}x`));
    const unknown = await postToken(t.app, cc({ audience: PAYMENTS }), basic('nobody', client.clientSecret));
    for (const response of [wrong, unknown]) {
      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="m2m-auth"/);
    }
    expect(wrong.body).toEqual(unknown.body);
  });

  it('requires authentication (401 with a challenge) and refuses two methods at once', async () => {
    const none = await postToken(t.app, cc({ audience: PAYMENTS }));
    expectOAuthError(none, 401, 'invalid_client');
    expect(none.headers['www-authenticate']).toBeDefined();
    const both = await postToken(
      t.app,
      cc({ audience: PAYMENTS, client_id: client.clientId, client_secret: client.clientSecret }),
      basic(client.clientId, client.clientSecret),
    );
    expectOAuthError(both, 400, 'invalid_request');
  });

  it('refuses a disabled client and a client_id mismatch', async () => {
    const mismatch = await postToken(t.app, cc({ audience: PAYMENTS, client_id: 'other' }), basic(client.clientId, client.clientSecret));
    expectOAuthError(mismatch, 400, 'invalid_request');
    await t.runtime.admin.updateClient(client.clientId, { isEnabled: false });
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret)), 401, 'invalid_client');
  });

  it('rejects a malformed Basic header', async () => {
    expectOAuthError(await postToken(t.app, cc(), 'Basic not-base64!'), 401, 'invalid_client');
    expectOAuthError(await postToken(t.app, cc(), `Basic ${Buffer.from('no-colon').toString('base64')}`), 401, 'invalid_client');
    expectOAuthError(await postToken(t.app, cc(), 'Bearer abc'), 401, 'invalid_client');
  });

  it('throttles credential guessing per client and address with 429 and Retry-After, then recovers', async () => {
    const bad = basic(client.clientId, 'm2msk_wrong');
    for (let i = 0; i < 10; i++) expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS }), bad), 401, 'invalid_client');
    const limited = await postToken(t.app, cc({ audience: PAYMENTS }), bad);
    expectOAuthError(limited, 429, 'temporarily_unavailable');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The real secret is never refused for someone else's failures (see abuse-resistance.test.ts).
    expect((await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret))).status).toBe(200);
    t.clock.advance(61_000);
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS }), bad), 401, 'invalid_client');
  });

  it('keeps the old secret working during a rotation grace period, then only the new one', async () => {
    const rotated = await t.runtime.admin.rotateClientSecret(client.clientId, { graceSeconds: 600 });
    expect((await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret))).status).toBe(200);
    expect((await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, rotated.clientSecret))).status).toBe(200);
    t.clock.advance(601_000);
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret)), 401, 'invalid_client');
    expect((await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, rotated.clientSecret))).status).toBe(200);
  });
});

describe('POST /oauth/token — private_key_jwt (RFC 7523)', () => {
  async function keyClient() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const created = await t.runtime.admin.createClient({ name: 'jwt-client', jwks: { keys: [jwk] } });
    await t.runtime.admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const assertion = (overrides: { aud?: string; jti?: string } = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(created.clientId)
        .setSubject(created.clientId)
        .setAudience(overrides.aud ?? `${ISSUER}/oauth/token`)
        .setJti(overrides.jti ?? crypto.randomUUID())
        .setIssuedAt(Math.floor(t.clock.now() / 1000))
        .setExpirationTime(Math.floor(t.clock.now() / 1000) + 60)
        .sign(privateKey);
    return { clientId: created.clientId, assertion };
  }
  const assertionParams = (assertion: string) =>
    cc({
      audience: PAYMENTS,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });

  it('authenticates with a signed assertion and refuses its replay', async () => {
    const { clientId, assertion } = await keyClient();
    const signed = await assertion();
    const ok = await postToken(t.app, assertionParams(signed));
    expect(ok.status).toBe(200);
    expect((await verifyWithJwks(t.app, ok.body.access_token as string, t.clock)).payload.sub).toBe(clientId);
    expectOAuthError(await postToken(t.app, assertionParams(signed)), 401, 'invalid_client');
  });

  it('refuses an assertion for another audience or with the wrong assertion type', async () => {
    const { assertion } = await keyClient();
    expectOAuthError(await postToken(t.app, assertionParams(await assertion({ aud: 'https://elsewhere.example' }))), 401, 'invalid_client');
    const wrongType = cc({ audience: PAYMENTS, client_assertion_type: 'urn:other', client_assertion: await assertion() });
    expectOAuthError(await postToken(t.app, wrongType), 400, 'invalid_request');
  });
});

describe('POST /oauth/token — request errors', () => {
  const auth = () => basic(client.clientId, client.clientSecret);

  it('grant_type: missing → invalid_request, unknown → unsupported_grant_type, repeated → invalid_request', async () => {
    expectOAuthError(await postToken(t.app, { audience: PAYMENTS }, auth()), 400, 'invalid_request');
    expectOAuthError(await postToken(t.app, { grant_type: 'password', audience: PAYMENTS }, auth()), 400, 'unsupported_grant_type');
    expectOAuthError(await postToken(t.app, { grant_type: ['client_credentials', 'client_credentials'] }, auth()), 400, 'invalid_request');
  });

  it('refuses a client that may not use the grant with unauthorized_client', async () => {
    const svc = await t.runtime.admin.createClient({ name: 'restricted' });
    await t.runtime.storage.updateClient(svc.clientId, { grantTypes: [] }, t.clock.now());
    t.runtime.registry.invalidate();
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS }), basic(svc.clientId, svc.clientSecret!)), 400, 'unauthorized_client');
  });

  it('rejects repeated scope or audience parameters', async () => {
    expectOAuthError(await postToken(t.app, cc({ audience: [PAYMENTS, INVENTORY] }), auth()), 400, 'invalid_request');
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, scope: ['payments:write', 'payments:write'] }), auth()), 400, 'invalid_request');
  });

  it('audience: none and no default → invalid_request; unknown or not granted → invalid_target; conflicting → invalid_request', async () => {
    expectOAuthError(await postToken(t.app, cc(), auth()), 400, 'invalid_request');
    expectOAuthError(await postToken(t.app, cc({ audience: 'https://unknown.example' }), auth()), 400, 'invalid_target');
    await t.runtime.admin.createApi({ identifier: 'https://hr.example', scopes: ['hr:read'] });
    expectOAuthError(await postToken(t.app, cc({ audience: 'https://hr.example' }), auth()), 400, 'invalid_target');
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, resource: INVENTORY }), auth()), 400, 'invalid_request');
    expectOAuthError(await postToken(t.app, cc({ resource: 'not a uri' }), auth()), 400, 'invalid_target');
  });

  it('scope: never widened — unknown or ungranted scopes are invalid_scope', async () => {
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, scope: 'payments:read' }), auth()), 400, 'invalid_scope');
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, scope: 'payments:refund' }), auth()), 400, 'invalid_scope');
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, scope: 'bad"scope' }), auth()), 400, 'invalid_scope');
    expectOAuthError(await postToken(t.app, cc({ audience: PAYMENTS, scope: `${PAYMENTS}/.default payments:write` }), auth()), 400, 'invalid_scope');
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/oauth/token' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.json().error).toBe('invalid_request');
  });

  it('refuses a body that is not form-encoded, and one over the size limit', async () => {
    const json = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json', authorization: auth() },
      payload: '{"grant_type":"client_credentials"}',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'invalid_request' });
    expect(json.headers['cache-control']).toBe('no-store');
    const empty = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: auth() } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ error: 'invalid_request' });
    const large = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&pad=${'a'.repeat(20_000)}`,
    });
    expect(large.statusCode).toBe(413);
    expect(large.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers unknown routes with 404 problem details', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('never writes a secret or a token to the log', async () => {
    const ok = await postToken(t.app, cc({ audience: PAYMENTS }), basic(client.clientId, client.clientSecret));
    await postToken(t.app, cc({ audience: PAYMENTS, client_id: client.clientId, client_secret: `${client.clientSecret}x` }));
    const logs = t.logs();
    expect(logs).toContain('token.issued');
    expect(logs).not.toContain(client.clientSecret);
    expect(logs).not.toContain(ok.body.access_token as string);
    expect(logs).not.toContain((ok.body.access_token as string).split('.')[2]!);
  });
});
