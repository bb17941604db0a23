import type { AddressInfo } from 'node:net';
import express from 'express';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth } from '@m2m-auth/resource-server/express';
import { startServer, type RunningServer } from '../../src/index.js';

/**
 * Interoperability: panva's oauth4webapi and openid-client, DPoP clients that know nothing of
 * m2m-auth, get DPoP-bound tokens from the server and call an API protected by the
 * resource-server SDK with proofs they sign — with server nonces off, and on at both ends (their
 * own nonce handling does the dance).
 */
const PAYMENTS = 'https://payments.example';

for (const requireNonce of [false, true]) {
  describe(`DPoP interop with oauth4webapi and openid-client (nonces ${requireNonce ? 'required' : 'off'})`, () => {
    let server: RunningServer;
    let api: { url: string; close(): Promise<void> };
    let clientId: string;
    let clientSecret: string;

    beforeAll(async () => {
      server = await startServer({ storage: 'memory', port: 0, logger: 'silent', lifecycle: { dpop: { requireNonce } } });
      await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'], requireSenderConstrained: true });
      const created = await server.admin.createClient({ name: 'third-party', dpopBoundAccessTokens: true });
      clientId = created.clientId;
      clientSecret = created.clientSecret!;
      await server.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });

      const verifier = createVerifier({
        issuer: server.issuer,
        audience: PAYMENTS,
        dpop: { required: true, ...(requireNonce ? { nonce: { secret: 'interop-nonce-secret-of-32-bytes!!' } } : {}) },
      });
      const app = express();
      app.get('/payments', requireAuth(verifier), (req, res) => res.json({ caller: req.auth!.clientId, cnf: req.auth!.claims.cnf }));
      const listening = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      api = { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, close: () => new Promise((r) => listening.close(() => r())) };
    });

    afterAll(async () => {
      await api?.close();
      await server?.close();
    });

    it('oauth4webapi: a DPoP token from m2m-auth, accepted by the resource-server SDK', async () => {
      const issuer = new URL(server.issuer);
      const insecure = { [oauth.allowInsecureRequests]: true };
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
      expect(as.dpop_signing_alg_values_supported).toContain('ES256');
      const client: oauth.Client = { client_id: clientId };
      const auth = oauth.ClientSecretPost(clientSecret);
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

      const tokenRequest = () => oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ audience: PAYMENTS }), { DPoP, ...insecure });
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = await oauth.processClientCredentialsResponse(as, client, await tokenRequest());
      } catch (error) {
        // RFC 9449 §8: the handle kept the nonce of that answer; the same request once more.
        if (!requireNonce || !oauth.isDPoPNonceError(error)) throw error;
        tokens = await oauth.processClientCredentialsResponse(as, client, await tokenRequest());
      }
      expect(tokens.token_type).toBe('dpop');
      expect(decodeJwt(tokens.access_token).cnf).toMatchObject({ jkt: expect.any(String) });

      const call = () => oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${api.url}/payments`), new Headers(), null, { DPoP, ...insecure });
      let response: Response;
      try {
        response = await call();
      } catch (error) {
        // The resource server's use_dpop_nonce challenge; the handle kept its DPoP-Nonce.
        if (!requireNonce || !oauth.isDPoPNonceError(error)) throw error;
        response = await call();
      }
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ caller: clientId });
    });

    it('openid-client: the same through its DPoP handle', async () => {
      const config = await openid.discovery(new URL(server.issuer), clientId, clientSecret, undefined, { execute: [openid.allowInsecureRequests] });
      const DPoP = openid.getDPoPHandle(config, await openid.randomDPoPKeyPair('ES256'));
      const tokens = await openid.clientCredentialsGrant(config, { audience: PAYMENTS }, { DPoP });
      expect(tokens.token_type).toBe('dpop');
      const response = await openid.fetchProtectedResource(config, tokens.access_token, new URL(`${api.url}/payments`), 'GET', undefined, undefined, { DPoP });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ caller: clientId });
    });

    it('a bearer request of theirs is refused: the client must prove its key', async () => {
      const config = await openid.discovery(new URL(server.issuer), clientId, clientSecret, undefined, { execute: [openid.allowInsecureRequests] });
      await expect(openid.clientCredentialsGrant(config, { audience: PAYMENTS })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    });
  });
}
