import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { basic, createTestApp, form, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { asksForJwt } from '../../src/endpoints/introspection-response.js';

/** RFC 9701: a resource server that asks for it gets the introspection answer as a JWT signed by the server. */
const PAYMENTS = 'https://payments.example';
const INVENTORY = 'https://inventory.example';
const JWT_ANSWER = 'application/token-introspection+jwt';

let t: TestApp;
let caller: { clientId: string; clientSecret: string };
let rs: { clientId: string; auth: string };

beforeEach(async () => {
  t = await createTestApp();
  caller = await seedExampleSystem(t.runtime);
  await t.runtime.admin.updateApi(INVENTORY, { tokenFormat: 'opaque' });
  const created = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS, INVENTORY] });
  rs = { clientId: created.clientId, auth: basic(created.clientId, created.clientSecret!) };
});
afterEach(() => t.close());

const issue = async (audience: string) =>
  (await postToken(t.app, { grant_type: 'client_credentials', audience }, basic(caller.clientId, caller.clientSecret))).body.access_token as string;

const introspect = (token: string, accept?: string, authorization = rs.auth) =>
  t.app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, ...(accept ? { accept } : {}) },
    payload: form({ token }),
  });

async function verifyAnswer(jwt: string, audience: string) {
  const jwks = (await t.app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet;
  return jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: ISSUER, audience, typ: 'token-introspection+jwt', currentDate: new Date(t.clock.now()) });
}

describe('signed introspection answers (RFC 9701)', () => {
  it.each([
    ['a JWT', PAYMENTS],
    ['an opaque token', INVENTORY],
  ])('for %s: the JSON answer, signed, for the calling client', async (_kind, audience) => {
    const token = await issue(audience);
    const json = (await introspect(token)).json() as Record<string, unknown>;
    expect(json).toMatchObject({ active: true, aud: audience });
    const response = await introspect(token, JWT_ANSWER);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JWT_ANSWER);
    expect(response.headers['cache-control']).toBe('no-store');
    const { payload, protectedHeader } = await verifyAnswer(response.body, rs.clientId);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'token-introspection+jwt' });
    expect(payload).toEqual({ iss: ISSUER, aud: rs.clientId, iat: Math.floor(t.clock.now() / 1000), token_introspection: json });
    // Never mistakable for an access token.
    expect(payload).not.toHaveProperty('sub');
    expect(payload).not.toHaveProperty('exp');
  });

  it('inactive, and not allowed, are signed {"active": false} alike', async () => {
    const revoked = await issue(INVENTORY);
    await postToken(t.app, { token: revoked }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' });
    const stranger = await t.runtime.admin.createClient({ name: 'stranger' });
    for (const [token, authorization, audience] of [
      [revoked, rs.auth, rs.clientId],
      ['garbage', rs.auth, rs.clientId],
      [await issue(PAYMENTS), basic(stranger.clientId, stranger.clientSecret!), stranger.clientId],
    ] as const) {
      const response = await introspect(token, JWT_ANSWER, authorization);
      expect(response.headers['content-type']).toBe(JWT_ANSWER);
      expect((await verifyAnswer(response.body, audience)).payload.token_introspection).toEqual({ active: false });
    }
  });

  it('a failed client authentication stays an RFC 6749 JSON error', async () => {
    const response = await introspect(await issue(PAYMENTS), JWT_ANSWER, basic(rs.clientId, 'wrong'));
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('is signed by the current server key after a rotation', async () => {
    const { key } = await t.runtime.admin.rotateSigningKey('RS256');
    const response = await introspect(await issue(PAYMENTS), JWT_ANSWER);
    expect(decodeProtectedHeader(response.body).kid).toBe(key.kid);
    await verifyAnswer(response.body, rs.clientId);
  });

  it('JSON unless the Accept header asks for the JWT with a quality above zero', async () => {
    expect(asksForJwt(undefined)).toBe(false);
    expect(asksForJwt('application/json')).toBe(false);
    expect(asksForJwt('*/*')).toBe(false);
    expect(asksForJwt(JWT_ANSWER)).toBe(true);
    expect(asksForJwt(`application/json;q=0.5, ${JWT_ANSWER}`)).toBe(true);
    expect(asksForJwt(`${JWT_ANSWER}; q=0`)).toBe(false);
    expect(asksForJwt(`${JWT_ANSWER}x`)).toBe(false);
    const response = await introspect(await issue(PAYMENTS), 'application/json');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  it('discovery lists the signing algorithm', async () => {
    const metadata = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json() as Record<string, unknown>;
    expect(metadata.introspection_signing_alg_values_supported).toEqual(['RS256']);
  });
});
