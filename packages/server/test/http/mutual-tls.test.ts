import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { certificateThumbprint, formatClientCertHeader } from '@m2m-auth/sdk-core';
import { basic, createClock, createTestApp, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createTestCa, issueCertificate, selfSignedCertificate, type TestCertificate } from '../../../sdk-core/test/helpers/test-pki.js';
import type { RuntimeOptions } from '../../src/boot/create-runtime.js';
import { startPlatformIssuer, type PlatformIssuer } from '../helpers/platform-issuer.js';
import { addFederatedCredential, trustIssuer } from '../helpers/federation.js';

/**
 * Mutual TLS (RFC 8705) behind a TLS-terminating proxy: the certificate arrives in the proxy's
 * Client-Cert header (RFC 9440), believed only from an address in --trust-proxy. Client
 * authentication both ways (§2.1 tls_client_auth, §2.2 self_signed_tls_client_auth), each
 * failure the same invalid_client; certificate-bound tokens (§3). The TLS handshake path is
 * mutual-tls-socket.test.ts.
 */
const PAYMENTS = 'https://payments.example';
const PROXY = '10.0.0.1';

// Made once, before the tests are collected (openssl runs for each).
const ca = createTestCa('/CN=m2m-auth test CA');
const rogueCa = createTestCa('/CN=m2m-auth test CA');
const orders = issueCertificate(ca, { subject: '/O=Example/CN=orders-service', sanDns: ['orders.example'] });
const ordersFromRogueCa = issueCertificate(rogueCa, { subject: '/O=Example/CN=orders-service', sanDns: ['orders.example'] });
const otherService = issueCertificate(ca, { subject: '/O=Example/CN=billing-service', sanDns: ['billing.example'] });
const wildcard = issueCertificate(ca, { subject: '/O=Example/CN=wildcard', sanDns: ['*.example'] });
const reports = selfSignedCertificate({ subject: '/CN=reports' });
const reportsLookalike = selfSignedCertificate({ subject: '/CN=reports' });

const jwkOf = (certificate: TestCertificate) => ({
  ...(certificate.x509.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
  x5c: [certificate.x509.raw.toString('base64')],
});

let t: TestApp;
let ids: { byDn: string; bySan: string; selfSigned: string; secret: { clientId: string; clientSecret: string } };

async function start(options: { runtime?: Partial<RuntimeOptions>; isMutualTlsOn?: boolean } = {}) {
  // The certificates are valid from now: the server's clock must be now, not the fixed test start.
  t = await createTestApp({
    clock: createClock(Date.now()),
    trustProxy: [PROXY],
    runtime: { ...(options.isMutualTlsOn === false ? {} : { mutualTls: { trustedCas: [ca.x509] } }), ...options.runtime },
  });
  const secret = await seedExampleSystem(t.runtime);
  const register = async (input: Parameters<TestApp['runtime']['admin']['createClient']>[0]) => {
    const { clientId } = await t.runtime.admin.createClient(input);
    await t.runtime.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    return clientId;
  };
  ids = {
    byDn: await register({ name: 'orders-mtls', tokenEndpointAuthMethods: ['tls_client_auth'], tlsClientAuthSubjectDn: 'CN=orders-service, O=Example' }),
    bySan: await register({ name: 'orders-by-name', tokenEndpointAuthMethods: ['tls_client_auth'], tlsClientAuthSanDns: ['Orders.Example'] }),
    selfSigned: await register({ name: 'reports', tokenEndpointAuthMethods: ['self_signed_tls_client_auth'], jwks: { keys: [jwkOf(reports)] } }),
    secret,
  };
}
afterEach(() => t.close());

interface Presented {
  certificate?: TestCertificate | undefined;
  /** A raw Client-Cert value instead of a certificate. */
  header?: string;
  from?: string;
  authorization?: string;
}

function tokenRequest(params: Record<string, string>, presented: Presented = {}) {
  const header = presented.header ?? (presented.certificate && formatClientCertHeader(presented.certificate.x509));
  return postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...params }, presented.authorization, {
    remoteAddress: presented.from ?? PROXY,
    ...(header !== undefined ? { headers: { 'client-cert': header } } : {}),
  });
}

const refusedAuthentication = { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } };

describe('client authentication by certificate (RFC 8705 §2), from a trusted proxy', () => {
  beforeEach(() => start());

  it('tls_client_auth: a certificate of a trusted CA with the registered subject DN, compared as a name', async () => {
    const response = await tokenRequest({ client_id: ids.byDn }, { certificate: orders });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('Bearer');
    const claims = decodeJwt(response.body.access_token as string);
    expect(claims.client_id).toBe(ids.byDn);
    // Not registered for certificate-bound tokens: a bearer token, as before.
    expect(claims.cnf).toBeUndefined();
    expect(t.logs()).toMatch(/"credential":"tls_client_auth"/);
  });

  it('tls_client_auth: a certificate naming one of the registered DNS names (compared without case)', async () => {
    expect((await tokenRequest({ client_id: ids.bySan }, { certificate: orders })).status).toBe(200);
  });

  it('self_signed_tls_client_auth: the certificate registered in the client’s jwks (x5c), no CA involved', async () => {
    const response = await tokenRequest({ client_id: ids.selfSigned }, { certificate: reports });
    expect(response.status).toBe(200);
    expect(t.logs()).toMatch(/"credential":"self_signed_tls_client_auth"/);
  });

  it.each([
    ['a certificate of another CA with the same subject and names', () => ids.byDn, ordersFromRogueCa],
    ['a certificate of the trusted CA with another subject', () => ids.byDn, otherService],
    ['a certificate of the trusted CA without the registered DNS name', () => ids.bySan, otherService],
    ['a wildcard certificate for the registered DNS name', () => ids.bySan, wildcard],
    ['a self-signed certificate with the registered subject that is not the registered one', () => ids.selfSigned, reportsLookalike],
    ['a certificate of the trusted CA for a self-signed client', () => ids.selfSigned, orders],
    ['a self-signed certificate for a tls_client_auth client', () => ids.byDn, reports],
    ['a valid certificate for a client registered for secrets', () => ids.secret.clientId, orders],
    ['a valid certificate for a client that does not exist', () => 'no-such-client', orders],
  ])('refuses %s with the same invalid_client, the reason in the log only', async (_name, clientId, certificate) => {
    const response = await tokenRequest({ client_id: clientId() }, { certificate });
    expect(response).toMatchObject(refusedAuthentication);
    expect(response.body.access_token).toBeUndefined();
    expect(t.logs()).toMatch(/Client authentication failed/);
    // Neither the certificate nor its subject reaches the log.
    expect(t.logs()).not.toContain(certificate.x509.raw.toString('base64').slice(0, 64));
    expect(t.logs()).not.toMatch(/orders-service|billing-service/);
  });

  it('refuses a certificate once it has expired (the CA still valid)', async () => {
    expect((await tokenRequest({ client_id: ids.byDn }, { certificate: orders })).status).toBe(200);
    t.clock.advance(36 * 3600_000);
    expect(await tokenRequest({ client_id: ids.byDn }, { certificate: orders })).toMatchObject(refusedAuthentication);
  });

  it('counts failed certificates like any failed authentication: metrics, then back-off', async () => {
    for (let i = 0; i < 10; i += 1) await tokenRequest({ client_id: ids.byDn }, { certificate: otherService });
    const throttled = await tokenRequest({ client_id: ids.byDn }, { certificate: otherService });
    expect(throttled.status).toBe(429);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/m2m_auth_token_errors_total\{error="invalid_client",client_id="unknown"\} 10/);
    // The right certificate is never refused because of someone else's failures.
    expect((await tokenRequest({ client_id: ids.byDn }, { certificate: orders })).status).toBe(200);
  });

  it('needs client_id beside the certificate', async () => {
    expect(await tokenRequest({}, { certificate: orders })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('lets a client that sends a secret authenticate with it: the certificate does not stand in for it', async () => {
    const response = await tokenRequest({ client_id: ids.byDn, client_secret: 'not-its-secret' }, { certificate: orders });
    expect(response).toMatchObject(refusedAuthentication);
  });

  it('authenticates introspection and revocation callers by certificate too', async () => {
    await t.runtime.admin.updateClient(ids.byDn, { introspectApis: [PAYMENTS] });
    const issued = await tokenRequest({ client_id: ids.byDn }, { certificate: orders });
    const introspected = await postToken(t.app, { token: issued.body.access_token as string, client_id: ids.byDn }, undefined, {
      url: '/oauth/introspect',
      remoteAddress: PROXY,
      headers: { 'client-cert': formatClientCertHeader(orders.x509) },
    });
    expect(introspected.body).toMatchObject({ active: true, client_id: ids.byDn });
  });
});

describe('the Client-Cert header (RFC 9440)', () => {
  beforeEach(() => start());

  it('is refused from an address that is not a trusted proxy, even beside a correct secret', async () => {
    const fromCaller = await tokenRequest({ client_id: ids.byDn }, { certificate: orders, from: '203.0.113.7' });
    expect(fromCaller).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/trusted proxy/) } });
    const withSecret = await tokenRequest({}, { certificate: orders, from: '203.0.113.7', authorization: basic(ids.secret.clientId, ids.secret.clientSecret) });
    expect(withSecret.status).toBe(400);
    expect(withSecret.body.access_token).toBeUndefined();
  });

  it.each([
    ['not a byte sequence', 'MIIB...'],
    ['empty', '::'],
    ['base64 that is not a certificate', ':aGVsbG8=:'],
    ['two certificates', `${formatClientCertHeader(orders.x509)}, ${formatClientCertHeader(orders.x509)}`],
    ['far too long', `:${'A'.repeat(20_000)}:`],
  ])('is refused when malformed (%s), from the trusted proxy too', async (_name, header) => {
    const response = await tokenRequest({ client_id: ids.byDn }, { header });
    expect(response).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/Client-Cert/) } });
  });
});

describe('certificate-bound access tokens (RFC 8705 §3)', () => {
  beforeEach(() => start());

  it('binds every token of a client registered for it: cnf x5t#S256 of the presented certificate, still a Bearer token', async () => {
    await t.runtime.admin.updateClient(ids.byDn, { tlsClientCertificateBoundAccessTokens: true, introspectApis: [PAYMENTS] });
    const response = await tokenRequest({ client_id: ids.byDn }, { certificate: orders });
    expect(response.body.token_type).toBe('Bearer');
    expect(decodeJwt(response.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificateThumbprint(orders.x509) });
    const introspected = await postToken(t.app, { token: response.body.access_token as string, client_id: ids.byDn }, undefined, {
      url: '/oauth/introspect',
      remoteAddress: PROXY,
      headers: { 'client-cert': formatClientCertHeader(orders.x509) },
    });
    expect(introspected.body).toMatchObject({ active: true, token_type: 'Bearer', cnf: { 'x5t#S256': certificateThumbprint(orders.x509) } });
  });

  it('binds an opaque token too: its introspection names the certificate', async () => {
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
    await t.runtime.admin.updateClient(ids.byDn, { tlsClientCertificateBoundAccessTokens: true, introspectApis: [PAYMENTS] });
    const issued = await tokenRequest({ client_id: ids.byDn }, { certificate: orders });
    expect(issued.body.access_token).toMatch(/^m2mat_/);
    const introspected = await postToken(t.app, { token: issued.body.access_token as string, client_id: ids.byDn }, undefined, {
      url: '/oauth/introspect',
      remoteAddress: PROXY,
      headers: { 'client-cert': formatClientCertHeader(orders.x509) },
    });
    expect(introspected.body).toMatchObject({ active: true, cnf: { 'x5t#S256': certificateThumbprint(orders.x509) } });
  });

  it('refuses a bound client that presents no certificate, whatever it authenticates with', async () => {
    const { clientSecret, clientId } = await t.runtime.admin.createClient({ name: 'bound-secret', tlsClientCertificateBoundAccessTokens: true });
    await t.runtime.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const without = await tokenRequest({}, { authorization: basic(clientId, clientSecret!) });
    expect(without).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/certificate-bound/) } });
    // With a certificate (any: the handshake proved it holds the key) its token is bound to it.
    const withCertificate = await tokenRequest({}, { authorization: basic(clientId, clientSecret!), certificate: reportsLookalike });
    expect(decodeJwt(withCertificate.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificateThumbprint(reportsLookalike.x509) });
  });

  it('binds a client that did not ask only where the API accepts nothing but sender-constrained tokens', async () => {
    const secretAuth = basic(ids.secret.clientId, ids.secret.clientSecret);
    expect(decodeJwt((await tokenRequest({}, { authorization: secretAuth, certificate: orders })).body.access_token as string).cnf).toBeUndefined();
    await t.runtime.admin.updateApi(PAYMENTS, { requireSenderConstrained: true });
    const bound = await tokenRequest({}, { authorization: secretAuth, certificate: orders });
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificateThumbprint(orders.x509) });
    const bearer = await tokenRequest({}, { authorization: secretAuth });
    expect(bearer).toMatchObject({ status: 400, body: { error_description: expect.stringMatching(/TLS client certificate/) } });
  });
});

describe('certificate-bound tokens from token exchange (RFC 8693)', () => {
  beforeEach(() => start());

  it('binds the exchanged token of a bound client to the certificate it connected with', async () => {
    const LEDGER = 'https://ledger.example';
    await t.runtime.admin.createApi({ identifier: LEDGER, scopes: ['payments:write'] });
    await t.runtime.admin.createGrant({ clientId: ids.byDn, apiIdentifier: LEDGER, scopes: ['payments:write'] });
    await t.runtime.admin.updateClient(ids.byDn, { tlsClientCertificateBoundAccessTokens: true });
    await t.runtime.storage.addExchangePolicy({
      id: 'xp_1',
      clientId: ids.byDn,
      subjectClientId: ids.secret.clientId,
      subjectIssuer: null,
      apiIdentifier: LEDGER,
      scopes: null,
      description: '',
      createdAt: t.clock.now(),
    });
    await t.runtime.registry.refresh();
    const subject = await tokenRequest({}, { authorization: basic(ids.secret.clientId, ids.secret.clientSecret) });
    const exchange = {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject.body.access_token as string,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: LEDGER,
      client_id: ids.byDn,
    };
    const exchanged = await tokenRequest(exchange, { certificate: orders });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.token_type).toBe('Bearer');
    expect(decodeJwt(exchanged.body.access_token as string)).toMatchObject({
      sub: ids.secret.clientId,
      act: { sub: ids.byDn },
      cnf: { 'x5t#S256': certificateThumbprint(orders.x509) },
    });
  });
});

describe('certificate-bound tokens from the JWT bearer grant (RFC 7523 §2.1)', () => {
  let platform: PlatformIssuer;
  beforeAll(async () => {
    platform = await startPlatformIssuer();
  });
  afterAll(() => platform.close());
  beforeEach(() => start());

  it('binds the token of a bound client whose platform token names it, and refuses it without a certificate', async () => {
    const at = t.clock.now();
    await trustIssuer(t.runtime.storage, at, platform.issuer);
    await addFederatedCredential(t.runtime.storage, at, { clientId: ids.secret.clientId, issuer: platform.issuer, subject: 'deployer' });
    await t.runtime.admin.updateClient(ids.secret.clientId, { tlsClientCertificateBoundAccessTokens: true });
    const assertion = () => {
      const nowS = Math.floor(t.clock.now() / 1000);
      return platform.sign({ sub: 'deployer', aud: ISSUER, iat: nowS, exp: nowS + 300, jti: `j-${Math.random()}` });
    };
    const grant = async (certificate?: TestCertificate) =>
      tokenRequest({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion() }, { certificate });
    const bound = await grant(reports);
    expect(bound.status).toBe(200);
    expect(decodeJwt(bound.body.access_token as string)).toMatchObject({
      client_id: ids.secret.clientId,
      cnf: { 'x5t#S256': certificateThumbprint(reports.x509) },
    });
    expect(await grant()).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/certificate-bound/) } });
  });
});

describe('without mutual TLS (no --mtls-ca)', () => {
  beforeEach(() => start({ isMutualTlsOn: false }));

  it('reads no certificate: a Client-Cert header from anyone changes nothing, and a certificate authenticates no one', async () => {
    const secretAuth = basic(ids.secret.clientId, ids.secret.clientSecret);
    const response = await tokenRequest({}, { authorization: secretAuth, certificate: orders, from: '203.0.113.7' });
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string).cnf).toBeUndefined();
    expect(await tokenRequest({ client_id: ids.byDn }, { certificate: orders })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('discovery advertises neither the methods nor certificate-bound tokens', async () => {
    const metadata = (await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth');
    expect(metadata.tls_client_certificate_bound_access_tokens).toBeUndefined();
    expect(metadata.mtls_endpoint_aliases).toBeUndefined();
  });
});

describe('discovery with mutual TLS (RFC 8705 §3.3, §5)', () => {
  it('advertises both methods at each endpoint and certificate-bound tokens', async () => {
    await start();
    const metadata = (await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
    for (const member of [
      'token_endpoint_auth_methods_supported',
      'introspection_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
    ]) {
      expect(metadata[member]).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic']));
    }
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(metadata.mtls_endpoint_aliases).toBeUndefined();
  });

  it('names the endpoints of a mutual-TLS listener of its own as mtls_endpoint_aliases', async () => {
    await start({ runtime: { mutualTls: { trustedCas: [ca.x509], aliasBaseUrl: 'https://mtls.auth.test' } } });
    const metadata = (await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json();
    expect(metadata.token_endpoint).toBe(`${ISSUER}/oauth/token`);
    expect(metadata.mtls_endpoint_aliases).toEqual({
      token_endpoint: 'https://mtls.auth.test/oauth/token',
      introspection_endpoint: 'https://mtls.auth.test/oauth/introspect',
      revocation_endpoint: 'https://mtls.auth.test/oauth/revoke',
    });
  });
});
