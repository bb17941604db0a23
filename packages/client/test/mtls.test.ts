import { createPrivateKey } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import axios from 'axios';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint } from '@m2m-auth/sdk-core';
import { createTestCa, issueCertificate, selfSignedCertificate } from '../../sdk-core/test/helpers/test-pki.js';
import { createAuthFetch, createTokenClient, type TokenClient, type TokenClientOptions } from '../src/index.js';
import { useBearerAuth } from '../src/axios.js';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth } from '@m2m-auth/resource-server/express';

/**
 * Mutual TLS (RFC 8705) in the client SDK, over real TLS sockets on 127.0.0.1: a small https
 * server that asks for a client certificate plays the issuer (discovery with
 * mtls_endpoint_aliases), the token endpoint and an API, and records the certificate each request
 * came with.
 */
const ca = createTestCa();
const serverCert = issueCertificate(ca, { subject: '/CN=127.0.0.1', sanIp: ['127.0.0.1'] });
const clientCert = issueCertificate(ca, { subject: '/CN=orders-service' });
const selfSigned = selfSignedCertificate({ subject: '/CN=orders-service-self-signed' });
const thiefCert = issueCertificate(ca, { subject: '/CN=thief' });
const CLIENT_THUMBPRINT = certificateThumbprint(clientCert.x509);

interface Seen {
  path: string;
  /** x5t#S256 of the certificate the client presented on this connection, if any. */
  thumbprint: string | undefined;
  authorization: string | undefined;
  form: Record<string, string>;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let authMethodsOffered = ['client_secret_basic', 'tls_client_auth', 'self_signed_tls_client_auth'];
let signingKey: CryptoKey;
let publicJwk: JWK;
const PAYMENTS = 'https://payments.example';

/** What the authorization server does (RFC 8705 §3.1): an access token bound to the certificate of this connection. */
const boundAccessToken = (thumbprint: string) =>
  new SignJWT({ client_id: 'orders-service', scope: 'payments:read', cnf: { 'x5t#S256': thumbprint } })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(base)
    .setSubject('orders-service')
    .setAudience(PAYMENTS)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(crypto.randomUUID())
    .sign(signingKey);

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  // rejectUnauthorized: false — the server sees every certificate (self-signed ones too) and the
  // tests read what arrived; trust is the server's business, not the client SDK's.
  server = createServer({ cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', async () => {
      const peer = (req.socket as TLSSocket).getPeerX509Certificate();
      const path = req.url ?? '';
      seen.push({
        path,
        thumbprint: peer ? certificateThumbprint(peer) : undefined,
        authorization: req.headers.authorization,
        form: Object.fromEntries(new URLSearchParams(raw)),
      });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (path === '/.well-known/oauth-authorization-server') {
        return json(200, {
          issuer: base,
          token_endpoint: `${base}/token`,
          mtls_endpoint_aliases: { token_endpoint: `${base}/mtls/token` },
          token_endpoint_auth_methods_supported: authMethodsOffered,
          tls_client_certificate_bound_access_tokens: true,
        });
      }
      if (path === '/jwks') return json(200, { keys: [publicJwk] });
      if (path === '/bound/token') {
        if (!peer) return json(400, { error: 'invalid_request', error_description: 'a client certificate is required' });
        return json(200, { access_token: await boundAccessToken(certificateThumbprint(peer)), token_type: 'Bearer', expires_in: 300 });
      }
      if (path.endsWith('/token')) return json(200, { access_token: `token-for-${seen.length}`, token_type: 'Bearer', expires_in: 900 });
      return json(200, { ok: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A client with the certificate, trusting the test CA; closed after the test body. */
async function withClient(options: Partial<TokenClientOptions>, body: (client: TokenClient) => Promise<void>): Promise<void> {
  const client = createTokenClient({ clientId: 'orders-service', mtls: { cert: clientCert.cert, key: clientCert.key, ca: ca.cert }, ...options });
  try {
    await body(client);
  } finally {
    client.close();
  }
}

const since = (mark: number) => seen.slice(mark);

describe('mtls: the client certificate on the token request and on API calls', () => {
  it('tls_client_auth: the token endpoint sees the certificate and client_id alone; the API sees the certificate with the Bearer token', async () => {
    await withClient({ tokenEndpoint: `${base}/token` }, async (client) => {
      const mark = seen.length;
      const token = await client.getToken();
      expect(token.tokenType).toBe('Bearer'); // a certificate-bound token is still a bearer token on the wire
      const [tokenRequest] = since(mark);
      expect(tokenRequest).toMatchObject({ path: '/token', thumbprint: CLIENT_THUMBPRINT, authorization: undefined });
      expect(tokenRequest!.form).toEqual({ grant_type: 'client_credentials', client_id: 'orders-service' });

      const response = await createAuthFetch(client)(`${base}/orders`);
      expect(response.status).toBe(200);
      expect(since(mark)[1]).toMatchObject({ path: '/orders', thumbprint: CLIENT_THUMBPRINT, authorization: `Bearer ${token.accessToken}` });
      expect(client.mtls?.thumbprint).toBe(CLIENT_THUMBPRINT);
    });
  });

  it("uses the issuer's mtls_endpoint_aliases.token_endpoint (RFC 8705 §5), discovery over the same trusted connection", async () => {
    await withClient({ issuer: base }, async (client) => {
      const mark = seen.length;
      await client.getToken();
      expect(since(mark).map((request) => request.path)).toEqual(['/.well-known/oauth-authorization-server', '/mtls/token']);
      expect(since(mark)[1]!.thumbprint).toBe(CLIENT_THUMBPRINT);
    });
  });

  it('with a secret too, authenticates with it and still presents the certificate (the token is bound to it)', async () => {
    await withClient({ issuer: base, clientSecret: 's3cret-value' }, async (client) => {
      const mark = seen.length;
      await client.getToken();
      const tokenRequest = since(mark)[1]!;
      expect(tokenRequest).toMatchObject({ path: '/mtls/token', thumbprint: CLIENT_THUMBPRINT });
      expect(tokenRequest.authorization).toMatch(/^Basic /);
      expect(tokenRequest.form.client_secret).toBeUndefined();
    });
  });

  it('without mtls, the same issuer is asked at its plain token_endpoint, and no certificate is presented', async () => {
    const trustingOnly = new Agent({ connect: { ca: ca.cert } });
    const client = createTokenClient({
      issuer: base,
      clientId: 'orders-service',
      clientSecret: 's3cret-value',
      fetch: ((input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: trustingOnly })) as typeof fetch,
    });
    try {
      const mark = seen.length;
      await client.getToken();
      expect(since(mark).map((request) => [request.path, request.thumbprint])).toEqual([
        ['/.well-known/oauth-authorization-server', undefined],
        ['/token', undefined],
      ]);
    } finally {
      client.close();
      await trustingOnly.close();
    }
  });

  it('a self-signed certificate: self_signed_tls_client_auth when the provider offers only that; the same request', async () => {
    authMethodsOffered = ['self_signed_tls_client_auth'];
    try {
      const client = createTokenClient({
        issuer: base,
        clientId: 'edge-agent',
        mtls: { cert: selfSigned.cert, key: Buffer.from(selfSigned.key), ca: [ca.cert] },
      });
      try {
        const mark = seen.length;
        await client.getToken();
        const tokenRequest = since(mark)[1]!;
        expect(tokenRequest).toMatchObject({ path: '/mtls/token', thumbprint: certificateThumbprint(selfSigned.x509), authorization: undefined });
        expect(tokenRequest.form).toEqual({ grant_type: 'client_credentials', client_id: 'edge-agent' });
      } finally {
        client.close();
      }
    } finally {
      authMethodsOffered = ['client_secret_basic', 'tls_client_auth', 'self_signed_tls_client_auth'];
    }
  });

  it("an application's own fetch is called with the certificate's dispatcher, and globalThis.fetch presents it", async () => {
    const dispatchers: unknown[] = [];
    const ownFetch: typeof fetch = (input, init) => {
      dispatchers.push((init as { dispatcher?: unknown } | undefined)?.dispatcher);
      return globalThis.fetch(input, init);
    };
    await withClient({ tokenEndpoint: `${base}/token`, fetch: ownFetch }, async (client) => {
      const mark = seen.length;
      await createAuthFetch(client, { fetch: ownFetch })(`${base}/orders`);
      expect(since(mark).map((request) => [request.path, request.thumbprint])).toEqual([
        ['/token', CLIENT_THUMBPRINT],
        ['/orders', CLIENT_THUMBPRINT],
      ]);
      expect(dispatchers).toHaveLength(2);
      expect(dispatchers[0]).toBeDefined();
      expect(dispatchers[1]).toBe(dispatchers[0]); // one connection pool for the token endpoint and the APIs
    });
  });

  it('the axios adapter presents the certificate on API calls', async () => {
    await withClient({ tokenEndpoint: `${base}/token` }, async (client) => {
      const http = axios.create({ baseURL: base });
      useBearerAuth(http, client);
      const mark = seen.length;
      const response = await http.get('/orders');
      expect(response.status).toBe(200);
      const apiCall = since(mark).find((request) => request.path === '/orders')!;
      expect(apiCall.thumbprint).toBe(CLIENT_THUMBPRINT);
      expect(apiCall.authorization).toMatch(/^Bearer token-for-/);
    });
  });

  it('the client, its handles and the transport never show the private key when logged', async () => {
    await withClient({ tokenEndpoint: `${base}/token` }, async (client) => {
      const keyBody = clientCert.key.split('\n')[1]!;
      for (const shown of [
        inspect(client, { depth: 5 }),
        JSON.stringify(client),
        inspect(client.for({ scope: 'x' }), { depth: 5 }),
        JSON.stringify(client.mtls),
      ]) {
        expect(shown).not.toContain(keyBody);
      }
      expect(inspect(client.mtls)).toContain(CLIENT_THUMBPRINT);
    });
  });
});

describe('mtls: option checks', () => {
  const valid = { cert: clientCert.cert, key: clientCert.key };
  const refused = (options: Record<string, unknown>) => {
    try {
      createTokenClient({ tokenEndpoint: 'https://auth.example/token', clientId: 'c', ...options } as TokenClientOptions);
    } catch (error) {
      return error as Error & { code?: string };
    }
    throw new Error('expected the options to be refused');
  };

  it('names the option that is wrong and never quotes key material', () => {
    const notAKey = `-----BEGIN PRIVATE KEY-----\nTOP-SECRET-MATERIAL\n-----END PRIVATE KEY-----\n`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ mtls: { ...valid, cert: 'TOP-SECRET-MATERIAL' } }, /mtls\.cert must be a PEM certificate .*\(got a string that is not one\)/],
      [{ mtls: { ...valid, key: notAKey } }, /mtls\.key must be a PEM private key .*\(got a string that is not one\)/],
      [{ mtls: { ...valid, key: selfSigned.key } }, /mtls\.key is not the private key of mtls\.cert/],
      [{ mtls: { cert: clientCert.cert } }, /mtls\.key must be a PEM private key .*\(got undefined\)/],
      [{ mtls: { ...valid, ca: [] } }, /mtls\.ca must be a PEM certificate or a non-empty array/],
      [{ mtls: { ...valid, ca: ['TOP-SECRET-MATERIAL'] } }, /mtls\.ca\[0\] must be a PEM certificate/],
      [{ mtls: { ...valid, pfx: 'TOP-SECRET-MATERIAL' } }, /mtls has unknown option "pfx"/],
      [{ mtls: 'TOP-SECRET-MATERIAL' }, /mtls must be an object \(got a string\)/],
      [{ authMethod: 'tls_client_auth', clientSecret: 'x' }, /authMethod 'tls_client_auth' needs mtls/],
      [{}, /clientSecret, privateKey, clientAssertion or mtls is required/],
    ];
    for (const [options, message] of cases) {
      const error = refused(options);
      expect(error).toMatchObject({ name: 'TokenClientError', code: 'configuration_error' });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('TOP-SECRET-MATERIAL');
      expect(error.message).not.toContain(selfSigned.key.split('\n')[1]);
    }
  });

  it('refuses an http token endpoint: a certificate is presented only in a TLS handshake', () => {
    const error = refused({ tokenEndpoint: 'http://127.0.0.1:8080/token', mtls: valid });
    expect(error.message).toMatch(/mtls needs an https token endpoint/);
  });

  it('an encrypted key needs its passphrase, and works with it', () => {
    const encrypted = createPrivateKey(clientCert.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pass-phrase' }) as string;
    expect(refused({ mtls: { ...valid, key: encrypted } }).message).toMatch(/mtls\.key is encrypted: give its mtls\.passphrase/);
    expect(refused({ mtls: { ...valid, key: encrypted, passphrase: 'wrong' } }).message).toMatch(/mtls\.key must be a PEM private key/);
    createTokenClient({ tokenEndpoint: 'https://auth.example/token', clientId: 'c', mtls: { ...valid, key: encrypted, passphrase: 'pass-phrase' } }).close();
  });
});

describe('mtls end to end: the client SDK and an API protected by the resource-server SDK, both over mutual TLS', () => {
  let api: Server;
  let apiUrl: string;
  const trustingOnly = new Agent({ connect: { ca: ca.cert } });

  beforeAll(async () => {
    const verifier = createVerifier({
      issuer: base,
      audience: PAYMENTS,
      jwksUri: `${base}/jwks`,
      mtls: { required: true },
      fetch: ((input, init) => undiciFetch(input as string, { ...(init as object), dispatcher: trustingOnly })) as typeof fetch,
    });
    const app = express();
    app.get('/payments', requireAuth(verifier), (req, res) => {
      res.json({ caller: req.auth!.clientId });
    });
    api = createServer({ cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false }, app);
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await trustingOnly.close();
  });

  it('the token bound at the token endpoint works at the API with the same certificate, and is useless with another', async () => {
    await withClient({ tokenEndpoint: `${base}/bound/token` }, async (client) => {
      const response = await createAuthFetch(client)(`${apiUrl}/payments`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ caller: 'orders-service' });

      // A thief with the token and a certificate of its own (even one from the same CA) gets nowhere.
      const token = await client.getToken();
      const thief = createTokenClient({
        tokenEndpoint: `${base}/bound/token`,
        clientId: 'thief',
        mtls: { cert: thiefCert.cert, key: thiefCert.key, ca: ca.cert },
      });
      try {
        const stolen = { getToken: async () => token, invalidate: () => false, mtls: thief.mtls };
        const refused = await createAuthFetch(stolen)(`${apiUrl}/payments`);
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="api", error="invalid_token", error_description="The client certificate presented does not match/,
        );
      } finally {
        thief.close();
      }
    });
  });
});
