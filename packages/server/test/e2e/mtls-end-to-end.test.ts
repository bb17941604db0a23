import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { decodeJwt } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint } from '@m2m-auth/sdk-core';
import { createAuthFetch, createTokenClient, type TokenClient } from '@m2m-auth/client';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth } from '@m2m-auth/resource-server/express';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/http/start-server.js';
import { createTestCa, issueCertificate, selfSignedCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

/**
 * Mutual TLS across the three parts, each as a user runs it: the authorization server with a
 * certificate listener of its own (`mtls_endpoint_aliases`), the client SDK finding that alias by
 * discovery and authenticating with its certificate alone (tls_client_auth), and an API behind the
 * resource-server SDK that accepts only certificate-bound tokens. A thief holding the token and a
 * certificate of its own — even one from the same CA — gets nowhere; neither does the caller's
 * own token sent without its certificate.
 */
const PAYMENTS = 'https://payments.example';

const ca = createTestCa('/CN=m2m-auth end-to-end CA');
const serverCertificate = issueCertificate(ca, { subject: '/CN=localhost', sanDns: ['localhost'], sanIp: ['127.0.0.1'] });
const orders = issueCertificate(ca, { subject: '/O=Example/CN=orders-service' });
const thiefCertificate = issueCertificate(ca, { subject: '/O=Example/CN=someone-else' });
const reports = selfSignedCertificate({ subject: '/CN=reports' });

let server: RunningServer;
let api: Server;
let apiUrl: string;
const trustingOurCa = new Agent({ connect: { ca: ca.cert } });
const clients: TokenClient[] = [];
let logs = '';
let ordersId: string;
let reportsId: string;

beforeAll(async () => {
  server = await startServer({
    storage: 'memory',
    port: 0,
    logger: createLogger('info', new Writable({ write: (chunk, _encoding, done) => ((logs += String(chunk)), done()) }) as never),
    tls: { cert: serverCertificate.cert, key: serverCertificate.key },
    mutualTls: { ca: ca.cert, port: 0 },
  });
  await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
  const register = async (input: Parameters<RunningServer['admin']['createClient']>[0]) => {
    const { clientId } = await server.admin.createClient(input);
    await server.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    return clientId;
  };
  ordersId = await register({
    name: 'orders',
    tokenEndpointAuthMethods: ['tls_client_auth'],
    tlsClientAuthSubjectDn: 'CN=orders-service,O=Example',
    tlsClientCertificateBoundAccessTokens: true,
  });
  reportsId = await register({
    name: 'reports',
    tokenEndpointAuthMethods: ['self_signed_tls_client_auth'],
    tlsClientCertificateBoundAccessTokens: true,
    jwks: { keys: [{ ...(reports.x509.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), x5c: [reports.x509.raw.toString('base64')] }] },
  });

  const verifier = createVerifier({
    issuer: server.issuer,
    audience: PAYMENTS,
    jwksUri: `${server.url}/.well-known/jwks.json`,
    mtls: { required: true },
    fetch: ((input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: trustingOurCa })) as typeof fetch,
  });
  const app = express();
  app.get('/payments', requireAuth(verifier), (req, res) => {
    res.json({ caller: req.auth!.clientId });
  });
  // The API's own TLS: it asks for a client certificate and leaves judging it to the token's binding.
  api = createServer({ cert: serverCertificate.cert, key: serverCertificate.key, requestCert: true, rejectUnauthorized: false }, app);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  api?.closeAllConnections();
  await new Promise((resolve) => api?.close(resolve));
  await trustingOurCa.close();
  await server?.close();
});

function clientWith(clientId: string, certificate: { cert: string; key: string }): TokenClient {
  const client = createTokenClient({
    issuer: server.issuer,
    clientId,
    audience: PAYMENTS,
    mtls: { cert: certificate.cert, key: certificate.key, ca: ca.cert },
  });
  clients.push(client);
  return client;
}

describe('mutual TLS end to end: server, client SDK and resource-server SDK', () => {
  it('the client SDK takes the certificate listener from discovery, authenticates with its certificate alone, and its bound token works at the API', async () => {
    expect(server.mtlsUrl).toBeDefined();
    expect(server.mtlsUrl).not.toBe(server.url);
    const client = clientWith(ordersId, orders);
    const response = await createAuthFetch(client)(`${apiUrl}/payments`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ caller: ordersId });
    const claims = decodeJwt((await client.getToken()).accessToken);
    expect(claims.cnf).toEqual({ 'x5t#S256': certificateThumbprint(orders.x509) });
    // Issued on the certificate listener (RFC 8705 §5), by tls_client_auth: the one token.issued line says both.
    expect(logs).toMatch(new RegExp(`"event":"token.issued"[^\\n]*"credential":"tls_client_auth"`));
  });

  it('a self-signed certificate registered in the client’s jwks works the same way', async () => {
    const client = clientWith(reportsId, reports);
    const response = await createAuthFetch(client)(`${apiUrl}/payments`);
    expect(response.status).toBe(200);
    expect(decodeJwt((await client.getToken()).accessToken).cnf).toEqual({ 'x5t#S256': certificateThumbprint(reports.x509) });
  });

  it('a stolen bound token is useless: with another certificate of the same CA, or with none', async () => {
    const token = await clientWith(ordersId, orders).getToken();
    const bearer = token.accessToken;
    const thief = clientWith('thief', thiefCertificate);
    const stolen = { getToken: async () => token, invalidate: () => false, mtls: thief.mtls };
    const withOtherCertificate = await createAuthFetch(stolen)(`${apiUrl}/payments`);
    expect(withOtherCertificate.status).toBe(401);
    expect(withOtherCertificate.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="The client certificate presented does not match/,
    );

    const withoutCertificate = await undiciFetch(`${apiUrl}/payments`, { headers: { authorization: `Bearer ${bearer}` }, dispatcher: trustingOurCa });
    expect(withoutCertificate.status).toBe(401);
    expect(withoutCertificate.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="The access token is bound to a client certificate, and the request presented none/,
    );
  });

  it('the thief’s certificate does not authenticate it as the client either: the one invalid_client', async () => {
    const impostor = clientWith(ordersId, thiefCertificate);
    await expect(impostor.getToken()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_client', status: 401 });
    expect(logs).not.toContain(thiefCertificate.x509.raw.toString('base64').slice(0, 64));
  });
});
