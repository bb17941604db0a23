import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webcrypto } from 'node:crypto';
import axios from 'axios';
import express from 'express';
import { decodeJwt, decodeProtectedHeader, jwtVerify, EmbeddedJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@m2m-auth/server';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth } from '@m2m-auth/resource-server/express';
import { accessTokenHash } from '@m2m-auth/sdk-core';
import { createAuthFetch, createTokenClient } from '../src/index.js';
import { useBearerAuth } from '../src/axios.js';
import { startTokenServer } from './helpers.js';

const PAYMENTS = 'https://payments.example';

/**
 * DPoP in the client SDK: against the real m2m-auth server and an API protected by the
 * resource-server SDK, both requiring server nonces, so each token request and each call does the
 * nonce dance (RFC 9449 §8, §9); then the OpenID Foundation's client-side cases against stand-ins.
 */
describe('DPoP end to end: m2m-auth server, client SDK, resource-server SDK (nonces on both sides)', () => {
  let server: RunningServer;
  let api: { url: string; close(): Promise<void> };
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', lifecycle: { dpop: { requireNonce: true } } });
    await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'], requireSenderConstrained: true });
    const created = await server.admin.createClient({ name: 'orders-service', dpopBoundAccessTokens: true });
    clientId = created.clientId;
    clientSecret = created.clientSecret!;
    await server.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });

    const verifier = createVerifier({
      issuer: server.issuer,
      audience: PAYMENTS,
      dpop: { required: true, nonce: { secret: 'a-secret-of-at-least-32-bytes-long!!' } },
    });
    const app = express();
    app.get('/payments', requireAuth(verifier), (req, res) => res.json({ caller: req.auth!.clientId, jkt: (req.auth!.claims.cnf as { jkt: string }).jkt }));
    app.post('/payments', express.json(), requireAuth(verifier), (req, res) => res.status(201).json({ received: req.body }));
    const listening = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    api = { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, close: () => new Promise((r) => listening.close(() => r())) };
  });

  afterAll(async () => {
    await api.close();
    await server.close();
  });

  it('dpop: true — a key per client instance; the token is bound to it and every call proves it', async () => {
    const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret, audience: PAYMENTS, dpop: true });
    try {
      const token = await client.getToken();
      expect(token.tokenType).toBe('DPoP');
      expect(decodeJwt(token.accessToken).cnf).toEqual({ jkt: await client.dpop!.thumbprint() });
      const authFetch = createAuthFetch(client);
      const first = await authFetch(`${api.url}/payments?page=1`);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ caller: clientId, jkt: await client.dpop!.thumbprint() });
      const posted = await authFetch(`${api.url}/payments`, { method: 'post', headers: { 'content-type': 'application/json' }, body: '{"amount":5}' });
      expect(posted.status).toBe(201);
      expect(await posted.json()).toEqual({ received: { amount: 5 } });
    } finally {
      client.close();
    }
  });

  it('the axios adapter sends DPoP with a proof for its method and URL (baseURL joined)', async () => {
    const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret, audience: PAYMENTS, dpop: true });
    try {
      const instance = axios.create({ baseURL: `${api.url}/` });
      useBearerAuth(instance, client);
      expect((await instance.get('payments')).data).toMatchObject({ caller: clientId });
      expect((await instance.post('payments', { amount: 7 })).status).toBe(201);
    } finally {
      client.close();
    }
  });

  it('a key pair the application supplies (Ed25519, RSA-PSS)', async () => {
    for (const algorithm of [{ name: 'Ed25519' }, { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }]) {
      const pair = (await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret, audience: PAYMENTS, dpop: pair as never });
      try {
        const response = await createAuthFetch(client)(`${api.url}/payments`);
        expect(response.status, algorithm.name).toBe(200);
        expect(((await response.json()) as { jkt: string }).jkt).toBe(await client.dpop!.thumbprint());
      } finally {
        client.close();
      }
    }
  });

  it('refuses options that cannot work, at set-up', () => {
    const base = { issuer: server.issuer, clientId, clientSecret };
    expect(() => createTokenClient({ ...base, dpop: {} as never })).toThrow(/dpop must be true .* or \{ privateKey, publicKey \}/);
    expect(() => createTokenClient({ ...base, dpop: 'yes' as never })).toThrow(/dpop must be true/);
  });
});

/** A stand-in API that records the Authorization and DPoP headers, and answers the first call as told. */
async function startRecordingApi(first: { status: number; headers: Record<string, string> }) {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    const answer = seen.length === 1 ? first : { status: 200, headers: {} };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('DPoP client cases of the OpenID Foundation tests', () => {
  it('token_type in another case (dpOp) is a DPoP token; a use_dpop_nonce challenge whose scheme is dPoP is answered once, with the nonce', async () => {
    let tokenRequests = 0;
    const authorizationServer = await startTokenServer((request) => {
      tokenRequests += 1;
      if (tokenRequests === 1) return { status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': 'as-nonce-1' } };
      expect(decodeJwt(request.headers.dpop as string).nonce).toBe('as-nonce-1');
      return { status: 200, body: { access_token: 'the-token', token_type: 'dpOp', expires_in: 300 } };
    });
    const api = await startRecordingApi({
      status: 401,
      headers: { 'www-authenticate': 'dPoP error="use_dpop_nonce", algs="ES256"', 'dpop-nonce': 'rs-nonce-1' },
    });
    const client = createTokenClient({ tokenEndpoint: authorizationServer.tokenEndpoint, clientId: 'c', clientSecret: 's', dpop: true });
    try {
      const response = await createAuthFetch(client)(`${api.url}/orders?x=1`, { method: 'PATCH' });
      expect(response.status).toBe(200);
      expect(tokenRequests).toBe(2);
      expect(api.seen).toHaveLength(2);
      for (const [index, headers] of api.seen.entries()) {
        expect(headers.authorization).toBe('DPoP the-token');
        const proof = headers.dpop as string;
        const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
        expect(protectedHeader.jwk).not.toHaveProperty('d');
        expect(payload).toMatchObject({ htm: 'PATCH', htu: `${api.url}/orders`, ath: accessTokenHash('the-token') });
        expect(payload.nonce).toBe(index === 0 ? undefined : 'rs-nonce-1');
      }
      expect(decodeProtectedHeader(api.seen[0]!.dpop as string).alg).toBe('ES256');
      expect(api.seen[0]!.dpop).not.toBe(api.seen[1]!.dpop);
    } finally {
      client.close();
      await api.close();
      await authorizationServer.close();
    }
  });

  it('a token the server answered as Bearer is sent as a bearer token, without a proof', async () => {
    const authorizationServer = await startTokenServer(() => ({ status: 200, body: { access_token: 'plain', token_type: 'Bearer', expires_in: 300 } }));
    const api = await startRecordingApi({ status: 200, headers: {} });
    const client = createTokenClient({ tokenEndpoint: authorizationServer.tokenEndpoint, clientId: 'c', clientSecret: 's', dpop: true });
    try {
      await createAuthFetch(client)(`${api.url}/orders`);
      expect(api.seen[0]).toMatchObject({ authorization: 'Bearer plain' });
      expect(api.seen[0]!.dpop).toBeUndefined();
      // The token request itself carried a proof.
      expect(authorizationServer.requests[0]!.headers.dpop).toEqual(expect.any(String));
    } finally {
      client.close();
      await api.close();
      await authorizationServer.close();
    }
  });
});
