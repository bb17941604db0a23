import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import { certificateThumbprint, formatClientCertHeader } from '@m2m-auth/sdk-core';
import { httpsJson } from '../helpers/https-request.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/http/start-server.js';
import { createTestCa, issueCertificate, selfSignedCertificate, type TestCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

/**
 * Mutual TLS over real TLS sockets on 127.0.0.1 (inject() has no TLS socket): the listener asks
 * for a client certificate without requiring one, Node's handshake checks its chain against
 * --mtls-ca, and client authentication and certificate-bound tokens follow from what the
 * handshake saw.
 */
const PAYMENTS = 'https://payments.example';

const ca = createTestCa('/CN=m2m-auth test CA');
const rogueCa = createTestCa('/CN=m2m-auth test CA');
const serverCertificate = issueCertificate(ca, { subject: '/CN=localhost', sanDns: ['localhost'] });
const orders = issueCertificate(ca, { subject: '/O=Example/CN=orders-service' });
const ordersFromRogueCa = issueCertificate(rogueCa, { subject: '/O=Example/CN=orders-service' });
const expired = issueCertificate(ca, { subject: '/O=Example/CN=orders-service', days: -1 });
const reports = selfSignedCertificate({ subject: '/CN=reports' });

let server: RunningServer;
let logs = '';
afterEach(() => server.close());

async function start(options: Partial<StartServerOptions> = {}) {
  logs = '';
  server = await startServer({
    storage: 'memory',
    port: 0,
    logger: createLogger('info', new Writable({ write: (chunk, _encoding, done) => ((logs += String(chunk)), done()) }) as never),
    tls: { cert: serverCertificate.cert, key: serverCertificate.key },
    mutualTls: { ca: ca.cert },
    ...options,
  });
  await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
  const register = async (input: Parameters<RunningServer['admin']['createClient']>[0]) => {
    const created = await server.admin.createClient(input);
    await server.admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    return created;
  };
  return {
    orders: (
      await register({
        name: 'orders',
        tokenEndpointAuthMethods: ['tls_client_auth'],
        tlsClientAuthSubjectDn: 'CN=orders-service,O=Example',
        tlsClientCertificateBoundAccessTokens: true,
        introspectApis: [PAYMENTS],
      })
    ).clientId,
    reports: (
      await register({
        name: 'reports',
        tokenEndpointAuthMethods: ['self_signed_tls_client_auth'],
        jwks: { keys: [{ ...(reports.x509.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), x5c: [reports.x509.raw.toString('base64')] }] },
      })
    ).clientId,
    secret: await register({ name: 'legacy' }),
  };
}

const post = (baseUrl: string, path: string, form: Record<string, string>, options: { certificate?: TestCertificate; headers?: Record<string, string> } = {}) =>
  httpsJson(`${baseUrl}${path}`, { ca: ca.cert, form, ...options });

const tokenRequest = (baseUrl: string, params: Record<string, string>, certificate?: TestCertificate) =>
  post(baseUrl, '/oauth/token', { grant_type: 'client_credentials', audience: PAYMENTS, ...params }, certificate ? { certificate } : {});

describe('mutual TLS on the server’s own TLS listener', () => {
  it('end to end: a CA-issued certificate authenticates, the token is bound to it (cnf x5t#S256), introspection shows it', async () => {
    const ids = await start();
    const issued = await tokenRequest(server.url, { client_id: ids.orders }, orders);
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('Bearer');
    const thumbprint = certificateThumbprint(orders.x509);
    expect(decodeJwt(issued.body.access_token as string).cnf).toEqual({ 'x5t#S256': thumbprint });
    const introspected = await post(
      server.url,
      '/oauth/introspect',
      { token: issued.body.access_token as string, client_id: ids.orders },
      { certificate: orders },
    );
    expect(introspected.body).toMatchObject({ active: true, token_type: 'Bearer', client_id: ids.orders, cnf: { 'x5t#S256': thumbprint } });
  });

  it('authenticates a self-signed certificate registered in the client’s jwks, though no CA vouches for it', async () => {
    const ids = await start();
    expect((await tokenRequest(server.url, { client_id: ids.reports }, reports)).status).toBe(200);
  });

  it.each([
    ['a certificate of another CA with the registered subject', ordersFromRogueCa],
    ['an expired certificate of the trusted CA', expired],
    ['a self-signed certificate with the registered subject', selfSignedCertificate({ subject: '/O=Example/CN=orders-service' })],
  ])('refuses %s with invalid_client (the handshake completes; authentication fails)', async (_name, certificate) => {
    const ids = await start();
    const response = await tokenRequest(server.url, { client_id: ids.orders }, certificate);
    expect(response).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } });
  });

  it('logs why the handshake did not verify a certificate (OpenSSL’s code), never the certificate or its subject', async () => {
    const ids = await start();
    await tokenRequest(server.url, { client_id: ids.orders }, expired);
    expect(logs).toMatch(/refused by the TLS handshake's verification: CERT_HAS_EXPIRED/);
    expect(logs).not.toMatch(/orders-service/);
    expect(logs).not.toContain(expired.x509.raw.toString('base64').slice(0, 64));
  });

  it('serves a client without a certificate as before, and refuses a bound client that has none', async () => {
    const ids = await start();
    const legacy = await tokenRequest(server.url, { client_id: ids.secret.clientId, client_secret: ids.secret.clientSecret! });
    expect(legacy.status).toBe(200);
    expect(decodeJwt(legacy.body.access_token as string).cnf).toBeUndefined();
    expect(await tokenRequest(server.url, { client_id: ids.orders })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('refuses a Client-Cert header from a caller on the socket: a proxy it is not', async () => {
    const ids = await start();
    const forged = await post(
      server.url,
      '/oauth/token',
      { grant_type: 'client_credentials', audience: PAYMENTS, client_id: ids.orders },
      {
        headers: { 'client-cert': formatClientCertHeader(orders.x509) },
      },
    );
    expect(forged).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('a mutual-TLS listener of its own (--mtls-port)', () => {
  it('asks for certificates there only, and discovery names it in mtls_endpoint_aliases', async () => {
    const ids = await start({ mutualTls: { ca: ca.cert, port: 0 } });
    expect(server.mtlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.mtlsUrl).not.toBe(server.url);
    const { body: discovery } = await httpsJson(`${server.url}/.well-known/oauth-authorization-server`, { ca: ca.cert });
    expect(discovery.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${server.mtlsUrl}/oauth/token`,
      introspection_endpoint: `${server.mtlsUrl}/oauth/introspect`,
      revocation_endpoint: `${server.mtlsUrl}/oauth/revoke`,
    });
    expect((await tokenRequest(server.mtlsUrl!, { client_id: ids.orders }, orders)).status).toBe(200);
    // The main listener does not ask: the certificate the client offers there is never sent.
    expect((await tokenRequest(server.url, { client_id: ids.orders }, orders)).status).toBe(401);
  });
});
