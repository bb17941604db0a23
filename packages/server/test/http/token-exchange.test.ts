import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { basic, createTestApp, ISSUER, postToken, type TestApp } from '../helpers/test-app.js';
import { startPlatformIssuer, type PlatformIssuer } from '../helpers/platform-issuer.js';
import { issuerDefaults } from '../../src/federation/federation-rules.js';
import type { ExchangePolicyRecord } from '../../src/storage/types.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';

/**
 * RFC 8693 token exchange and the RFC 7523 JWT bearer grant, tried as an attacker would: a wider
 * scope, a revoked or expired subject token, no policy, a chain past the limit, a forged subject.
 * The scenario: the order service calls payments; payments exchanges the order service's token
 * to call the ledger, on the order service's behalf.
 */
const PAYMENTS = 'https://payments.example';
const LEDGER = 'https://ledger.example';
const AUDIT = 'https://audit.example';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

type Client = { clientId: string; auth: string };
let t: TestApp;
let orders: Client;
let payments: Client;
let ledger: Client;
let serial = 0;

async function client(name: string, grants: Record<string, string[]>): Promise<Client> {
  const created = await t.runtime.admin.createClient({ name });
  for (const [apiIdentifier, scopes] of Object.entries(grants)) await t.runtime.admin.createGrant({ clientId: created.clientId, apiIdentifier, scopes });
  return { clientId: created.clientId, auth: basic(created.clientId, created.clientSecret!) };
}

async function allow(exchanger: Client, subject: string, apiIdentifier: string, fields: Partial<ExchangePolicyRecord> = {}) {
  await t.runtime.storage.addExchangePolicy({
    id: `xp_${(serial += 1)}`,
    clientId: exchanger.clientId,
    subjectClientId: subject,
    subjectIssuer: null,
    apiIdentifier,
    scopes: null,
    description: '',
    createdAt: t.clock.now(),
    ...fields,
  });
  await t.runtime.registry.refresh();
}

async function tokenFor(caller: Client, audience: string) {
  const response = await postToken(t.app, { grant_type: 'client_credentials', audience }, caller.auth);
  expect(response.status).toBe(200);
  return response.body.access_token as string;
}

const exchange = (caller: Client, subjectToken: string, params: Record<string, string> = {}) =>
  postToken(t.app, { grant_type: EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, audience: LEDGER, ...params }, caller.auth);

beforeEach(async () => {
  t = await createTestApp({ runtime: { maxDelegationChain: 3 } });
  await t.runtime.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:charge', 'ledger:append'], tokenTtlSeconds: 900 });
  await t.runtime.admin.createApi({ identifier: LEDGER, scopes: ['ledger:append', 'ledger:read'], tokenTtlSeconds: 3600 });
  await t.runtime.admin.createApi({ identifier: AUDIT, scopes: ['ledger:append', 'audit:write'] });
  orders = await client('orders-service', { [PAYMENTS]: ['payments:charge', 'ledger:append'] });
  payments = await client('payment-service', { [LEDGER]: ['ledger:append', 'ledger:read'] });
  ledger = await client('ledger-service', { [AUDIT]: ['ledger:append', 'audit:write'] });
});
afterEach(() => t.close());

describe('token exchange (RFC 8693)', () => {
  it('a policy lets payments trade the order service’s token for a ledger token: narrower, no longer-lived, naming who acts for whom', async () => {
    await allow(payments, orders.clientId, LEDGER);
    const subjectToken = await tokenFor(orders, PAYMENTS);
    const response = await exchange(payments, subjectToken);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', issued_token_type: ACCESS_TOKEN, scope: 'ledger:append' });
    const claims = decodeJwt(response.body.access_token as string);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: LEDGER,
      sub: orders.clientId,
      client_id: payments.clientId,
      scope: 'ledger:append',
      act: { sub: payments.clientId },
    });
    // The ledger API would allow an hour; the subject token had 15 minutes.
    expect(claims.exp).toBeLessThanOrEqual(decodeJwt(subjectToken).exp!);
    expect(response.body.expires_in).toBeLessThanOrEqual(900);
  });

  it('an opaque token of ours is exchangeable like a JWT, and not once revoked', async () => {
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
    await allow(payments, orders.clientId, LEDGER);
    const opaque = await tokenFor(orders, PAYMENTS);
    expect(opaque.startsWith('m2mat_')).toBe(true);
    const response = await exchange(payments, opaque);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({ sub: orders.clientId, scope: 'ledger:append', act: { sub: payments.clientId } });
    expect((await postToken(t.app, { token: opaque }, orders.auth, { url: '/oauth/revoke' })).status).toBe(200);
    expect((await exchange(payments, opaque)).body.error).toBe('invalid_grant');
  });

  it('nothing is exchangeable until a policy says so, and a policy covers only its subject client and API', async () => {
    const subjectToken = await tokenFor(orders, PAYMENTS);
    expect((await exchange(payments, subjectToken)).body.error).toBe('unauthorized_client');
    await allow(payments, ledger.clientId, LEDGER);
    await allow(payments, orders.clientId, AUDIT);
    expect((await exchange(payments, subjectToken)).body.error).toBe('unauthorized_client');
    await allow(payments, '*', LEDGER);
    expect((await exchange(payments, subjectToken)).status).toBe(200);
  });

  it('a wider scope than the subject token carries, the client is granted or the policy allows is refused', async () => {
    await allow(payments, orders.clientId, LEDGER, { scopes: ['ledger:append'] });
    const subjectToken = await tokenFor(orders, PAYMENTS);
    // ledger:read: granted to payments on the ledger, but the order service's token does not carry it.
    expect((await exchange(payments, subjectToken, { scope: 'ledger:read' })).body.error).toBe('invalid_scope');
    expect((await exchange(payments, subjectToken, { scope: 'ledger:append payments:charge' })).body.error).toBe('invalid_scope');
    // A token that carries nothing the target allows yields nothing.
    const chargeOnly = (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, scope: 'payments:charge' }, orders.auth)).body
      .access_token as string;
    expect((await exchange(payments, chargeOnly)).body.error).toBe('invalid_scope');
  });

  it('a revoked, expired, forged or foreign subject token is invalid_grant, and so is a disabled subject client’s', async () => {
    await allow(payments, orders.clientId, LEDGER);
    const revoked = await tokenFor(orders, PAYMENTS);
    expect((await postToken(t.app, { token: revoked }, orders.auth, { url: '/oauth/revoke' })).status).toBe(200);
    expect((await exchange(payments, revoked)).body.error).toBe('invalid_grant');

    const expiring = await tokenFor(orders, PAYMENTS);
    t.clock.advance(901_000);
    expect((await exchange(payments, expiring)).body.error).toBe('invalid_grant');

    const genuine = await tokenFor(orders, PAYMENTS);
    const [header, payload] = genuine.split('.');
    const widened = Buffer.from(JSON.stringify({ ...decodeJwt(genuine), scope: 'ledger:append ledger:read' })).toString('base64url');
    expect((await exchange(payments, `${header}.${widened}.${genuine.split('.')[2]}`)).body.error).toBe('invalid_grant');
    expect((await exchange(payments, `${header}.${payload}`)).body.error).toBe('invalid_grant');
    expect((await exchange(payments, 'not-a-token')).body.error).toBe('invalid_grant');

    await t.runtime.admin.updateClient(orders.clientId, { isEnabled: false });
    expect((await exchange(payments, genuine)).body.error).toBe('invalid_grant');
  });

  it('the chain of actors nests, and a chain longer than the configured limit is refused', async () => {
    await allow(payments, orders.clientId, LEDGER);
    await allow(ledger, payments.clientId, AUDIT);
    await allow(orders, ledger.clientId, PAYMENTS);
    await allow(payments, orders.clientId, AUDIT);
    const first = (await exchange(payments, await tokenFor(orders, PAYMENTS))).body.access_token as string;
    // ledger exchanges the (exchanged) token payments holds: its client is payments.
    const second = await exchange(ledger, first, { audience: AUDIT });
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token as string)).toMatchObject({
      sub: orders.clientId,
      client_id: ledger.clientId,
      act: { sub: ledger.clientId, act: { sub: payments.clientId } },
    });
    await t.runtime.admin.createGrant({ clientId: orders.clientId, apiIdentifier: AUDIT, scopes: ['ledger:append'] });
    await allow(orders, ledger.clientId, AUDIT);
    const third = await exchange(orders, second.body.access_token as string, { audience: AUDIT });
    expect(third.status).toBe(200);
    // A fourth actor would pass the limit of 3 (payments may exchange order-service tokens for the audit API).
    await t.runtime.admin.createGrant({ clientId: payments.clientId, apiIdentifier: AUDIT, scopes: ['ledger:append'] });
    const fourth = await exchange(payments, third.body.access_token as string, { audience: AUDIT });
    expect(fourth.body).toMatchObject({ error: 'invalid_grant' });
    expect(String(fourth.body.error_description)).toContain('delegation chain');
  });

  it('an actor token names the actor; a forged one is refused', async () => {
    await allow(payments, orders.clientId, LEDGER);
    const actorToken = await tokenFor(ledger, AUDIT);
    const response = await exchange(payments, await tokenFor(orders, PAYMENTS), { actor_token: actorToken, actor_token_type: ACCESS_TOKEN });
    expect(decodeJwt(response.body.access_token as string).act).toEqual({ sub: ledger.clientId, client_id: ledger.clientId });
    expect((await exchange(payments, await tokenFor(orders, PAYMENTS), { actor_token: 'forged', actor_token_type: ACCESS_TOKEN })).body.error).toBe(
      'invalid_grant',
    );
  });

  it('malformed requests answer invalid_request', async () => {
    await allow(payments, orders.clientId, LEDGER);
    const subjectToken = await tokenFor(orders, PAYMENTS);
    const without = (params: Record<string, string>) => postToken(t.app, { grant_type: EXCHANGE, audience: LEDGER, ...params }, payments.auth);
    expect((await without({ subject_token: subjectToken })).body.error).toBe('invalid_request');
    expect((await without({ subject_token: subjectToken, subject_token_type: 'urn:example:saml' })).body.error).toBe('invalid_request');
    expect((await without({ subject_token_type: ACCESS_TOKEN })).body.error).toBe('invalid_request');
    expect((await exchange(payments, subjectToken, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' })).body.error).toBe(
      'invalid_request',
    );
    // The exchanging client must itself be granted the target API.
    expect((await exchange(payments, subjectToken, { audience: AUDIT })).body.error).toBe('invalid_target');
  });

  it('the admin API is never a target, even under a policy written into the database and with a grant on it', async () => {
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const root: Client = { clientId: boot.clientId, auth: basic(boot.clientId, boot.clientSecret) };
    await allow(root, orders.clientId, ADMIN_API_IDENTIFIER);
    const response = await exchange(root, await tokenFor(orders, PAYMENTS), { audience: ADMIN_API_IDENTIFIER });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'invalid_target',
      error_description: `Tokens of ${ADMIN_API_IDENTIFIER} are never obtained by token exchange.`,
    });
  });
});

describe('external subjects and the JWT bearer grant (RFC 7523 §2.1)', () => {
  let platform: PlatformIssuer;
  beforeAll(async () => {
    platform = await startPlatformIssuer();
  });
  afterAll(() => platform.close());

  async function trustPlatform() {
    const at = t.clock.now();
    await t.runtime.storage.createTrustedIssuer({
      issuer: platform.issuer,
      kind: 'oidc',
      jwksUri: null,
      jwks: null,
      ...issuerDefaults(platform.issuer, 'oidc'),
      createdAt: at,
      updatedAt: at,
    });
  }
  const platformToken = (sub = 'repo:acme/deployer:ref:refs/heads/main') => {
    const nowS = Math.floor(t.clock.now() / 1000);
    return platform.sign({ sub, aud: ISSUER, iat: nowS, exp: nowS + 300, jti: `j-${Math.random()}` });
  };

  it('a trusted issuer’s JWT is exchangeable only under a policy for that issuer, and carries no scope of ours', async () => {
    await trustPlatform();
    await t.runtime.registry.refresh();
    const params = { subject_token_type: JWT };
    expect((await exchange(payments, await platformToken(), params)).body.error).toBe('unauthorized_client');
    await allow(payments, '*', LEDGER);
    expect((await exchange(payments, await platformToken(), params)).body.error).toBe('unauthorized_client');
    await allow(payments, '', LEDGER, { subjectClientId: null, subjectIssuer: platform.issuer, scopes: ['ledger:read'] });
    const response = await exchange(payments, await platformToken(), params);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({
      sub: 'repo:acme/deployer:ref:refs/heads/main',
      subject_issuer: platform.issuer,
      client_id: payments.clientId,
      scope: 'ledger:read',
    });
    // As an access_token type it is not one of ours: refused.
    expect((await exchange(payments, await platformToken())).body.error).toBe('invalid_grant');
  });

  it('the JWT bearer grant: the assertion alone names the client through its federated credential', async () => {
    await trustPlatform();
    await t.runtime.storage.addFederatedCredential({
      id: 'fed_deployer',
      clientId: payments.clientId,
      issuer: platform.issuer,
      subject: 'repo:acme/deployer:ref:refs/heads/main',
      subjectMatch: 'exact',
      audiences: [],
      claims: {},
      description: '',
      createdAt: t.clock.now(),
    });
    await t.runtime.registry.refresh();
    const grant = (params: Record<string, string>, authorization?: string) =>
      postToken(t.app, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', audience: LEDGER, ...params }, authorization);
    const response = await grant({ assertion: await platformToken() });
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({ client_id: payments.clientId, aud: LEDGER });
    // The same checks as federated client authentication: an unknown subject, a replay.
    const replayed = await platformToken();
    expect((await grant({ assertion: replayed })).status).toBe(200);
    expect((await grant({ assertion: replayed })).body.error).toBe('invalid_client');
    expect((await grant({ assertion: await platformToken('repo:evil/deployer:ref:refs/heads/main') })).body.error).toBe('invalid_client');
    expect((await grant({})).body.error).toBe('invalid_request');
    // One authentication method per request.
    expect((await grant({ assertion: await platformToken() }, payments.auth)).body.error).toBe('invalid_request');
  });

  it('discovery lists the grant types', async () => {
    const metadata = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json() as { grant_types_supported: string[] };
    expect(metadata.grant_types_supported).toEqual(['client_credentials', EXCHANGE, 'urn:ietf:params:oauth:grant-type:jwt-bearer']);
  });
});
