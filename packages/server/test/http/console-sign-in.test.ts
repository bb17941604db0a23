import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { FastifyInstance } from 'fastify';
import { createTestApp, basic, postToken, type TestApp, type TestAppOptions } from '../helpers/test-app.js';
import { buildAdminApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { revokedTokenKey } from '../../src/tokens/verify-own-token.js';

const ORDERS = 'https://orders.example';
const SIGN_IN = { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER };

/**
 * The console signs in on its own origin: client credentials for an admin token at /oauth/token,
 * revocation at /oauth/revoke on sign-out. On the main listener these are the OAuth endpoints; on
 * the admin API's own listener they are the same cores, for admin tokens only.
 */
describe('console sign-in on the listener that serves it', () => {
  let t: TestApp;
  let adminApp: FastifyInstance;
  let admin: { clientId: string; clientSecret: string };

  async function setup(options: TestAppOptions = {}) {
    t = await createTestApp(options);
    adminApp = buildAdminApp(t.runtime, { logger: createLogger('silent') });
    await adminApp.ready();
    admin = await t.runtime.admin.bootstrapAdminClient();
  }
  beforeEach(() => setup());
  afterEach(async () => {
    await adminApp.close();
    await t.close();
  });

  const revoke = (app: FastifyInstance, token: string, authorization = basic(admin.clientId, admin.clientSecret)) =>
    app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      payload: new URLSearchParams({ token }).toString(),
    });
  const listApis = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/admin/v1/apis', headers: { authorization: `Bearer ${token}` } });

  for (const shape of ['main listener', 'admin listener'] as const) {
    it(`${shape}: sign in, use the admin API, sign out; the revoked token is refused at once`, async () => {
      const app = shape === 'main listener' ? t.app : adminApp;
      const signIn = await postToken(app, SIGN_IN, basic(admin.clientId, admin.clientSecret));
      expect(signIn.status).toBe(200);
      expect(signIn.headers['cache-control']).toBe('no-store');
      const token = signIn.body.access_token as string;
      expect(decodeJwt(token)).toMatchObject({ aud: ADMIN_API_IDENTIFIER, client_id: admin.clientId });
      expect((await listApis(app, token)).statusCode).toBe(200);
      const signOut = await revoke(app, token);
      expect(signOut.statusCode).toBe(200);
      const refused = await listApis(app, token);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ detail: 'The token has been revoked' });
    });
  }

  it('the admin listener issues admin tokens only: another audience, or a default one, is invalid_target and nothing is issued', async () => {
    await t.runtime.admin.createApi({ identifier: ORDERS, scopes: ['orders:read'] });
    const service = await t.runtime.admin.createClient({ name: 'orders-caller', defaultApi: ORDERS });
    await t.runtime.admin.createGrant({ clientId: service.clientId, apiIdentifier: ORDERS, scopes: ['orders:read'] });
    const credentials = basic(service.clientId, service.clientSecret!);
    const issuedBefore = t.logs().split('"event":"token.issued"').length;
    for (const params of <Record<string, string>[]>[
      { grant_type: 'client_credentials', audience: ORDERS },
      { grant_type: 'client_credentials', resource: ORDERS },
      { grant_type: 'client_credentials', scope: `${ORDERS}/.default` },
      { grant_type: 'client_credentials' },
    ]) {
      const refused = await postToken(adminApp, params, credentials);
      expect(refused.status, JSON.stringify(params)).toBe(400);
      expect(refused.body).toEqual({ error: 'invalid_target', error_description: `This endpoint issues tokens for ${ADMIN_API_IDENTIFIER} only.` });
    }
    expect(t.logs().split('"event":"token.issued"').length).toBe(issuedBefore);
    // The same client gets its orders token from the main listener as ever.
    expect((await postToken(t.app, { grant_type: 'client_credentials' }, credentials)).status).toBe(200);
    // A client without an admin grant asking for an admin token: refused as on the main listener.
    const main = await postToken(t.app, SIGN_IN, credentials);
    expect(await postToken(adminApp, SIGN_IN, credentials)).toMatchObject({ status: main.status, body: main.body });
    // Other grants are not offered there.
    const exchange = await postToken(adminApp, { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange' }, credentials);
    expect(exchange.body).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('the same client authentication: a wrong secret is the main endpoint’s invalid_client, logged without the secret', async () => {
    const wrong = basic(admin.clientId, 'not-the-secret-at-all-0123456789');
    const main = await postToken(t.app, SIGN_IN, wrong);
    const own = await postToken(adminApp, SIGN_IN, wrong);
    expect(main.status).toBe(401);
    expect(own).toMatchObject({ status: main.status, body: main.body });
    expect(own.headers['www-authenticate']).toBe(main.headers['www-authenticate']);
    expect(t.logs()).not.toContain('not-the-secret-at-all');
  });

  it('the same rate limits: both listeners draw on one per-client bucket', async () => {
    await t.close();
    await adminApp.close();
    await setup({ runtime: { rateLimits: { perClient: { capacity: 2, refillPerSecond: 0.001 } } } });
    const credentials = basic(admin.clientId, admin.clientSecret);
    expect((await postToken(t.app, SIGN_IN, credentials)).status).toBe(200);
    expect((await postToken(adminApp, SIGN_IN, credentials)).status).toBe(200);
    const limited = await postToken(adminApp, SIGN_IN, credentials);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('revocation on the admin listener revokes admin tokens only; another token of the caller is left alone', async () => {
    await t.runtime.admin.createApi({ identifier: ORDERS, scopes: ['orders:read'] });
    await t.runtime.admin.createGrant({ clientId: admin.clientId, apiIdentifier: ORDERS, scopes: ['orders:read'] });
    const orders = (await postToken(t.app, { grant_type: 'client_credentials', audience: ORDERS }, basic(admin.clientId, admin.clientSecret))).body
      .access_token as string;
    expect((await revoke(adminApp, orders)).statusCode).toBe(200);
    expect(await t.runtime.state.isTokenRevoked(revokedTokenKey(String(decodeJwt(orders).jti)))).toBe(false);
    // Introspection is not served there: the console never needs it.
    expect((await adminApp.inject({ method: 'POST', url: '/oauth/introspect', payload: 'token=x' })).statusCode).toBe(404);
  });

  it('no CORS on either listener: a cross-origin preflight gets no grant', async () => {
    for (const app of [t.app, adminApp]) {
      for (const url of ['/oauth/token', '/oauth/revoke', '/admin/v1/apis']) {
        const preflight = await app.inject({
          method: 'OPTIONS',
          url,
          headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
        });
        expect(preflight.statusCode, url).toBe(405);
        expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      }
      const signIn = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://elsewhere.example',
          authorization: basic(admin.clientId, admin.clientSecret),
        },
        payload: new URLSearchParams(SIGN_IN).toString(),
      });
      expect(signIn.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
