import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@m2m-auth/server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';
import { createAuthFetch, createTokenClient, isOAuthError, type TokenClientEvent } from '../src/index.js';

const PAYMENTS = 'https://payments.example';

/** The client against the real m2m-auth server, calling an API protected by the resource-server SDK. */
describe('end to end with the m2m-auth server', () => {
  let now = Date.now();
  const clock = () => now;
  let server: RunningServer;
  let api: { url: string; close(): Promise<void> };
  let clientId: string;
  let secret: string;

  beforeAll(async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', clock });
    await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read', 'payments:write'], tokenTtlSeconds: 300 });
    const created = await server.admin.createClient({ name: 'orders-service' });
    clientId = created.clientId;
    secret = created.clientSecret!;
    await server.admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });

    const app = express();
    app.get('/payments', requireAuth({ issuer: server.issuer, audience: PAYMENTS, now: clock }), requireScopes(['payments:read']), (req, res) =>
      res.json({ caller: req.auth!.clientId }),
    );
    const listening = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    api = { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, close: () => new Promise((r) => listening.close(() => r())) };
  });

  afterAll(async () => {
    await api.close();
    await server.close();
  });

  it('gets a token through discovery and calls the protected API', async () => {
    const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret: secret, audience: PAYMENTS, scope: 'payments:read', clock });
    try {
      const response = await createAuthFetch(client)(`${api.url}/payments`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ caller: clientId });
    } finally {
      client.close();
    }
  });

  it('after expiry, fetches a new token by itself', async () => {
    const events: TokenClientEvent[] = [];
    const client = createTokenClient({
      issuer: server.issuer,
      clientId,
      clientSecret: secret,
      audience: PAYMENTS,
      clock,
      onEvent: (e) => events.push(e),
      backgroundRefresh: false,
    });
    try {
      const first = await client.getToken();
      now += 301_000;
      const second = await client.getToken();
      expect(second.accessToken).not.toBe(first.accessToken);
      expect((await createAuthFetch(client)(`${api.url}/payments`)).status).toBe(200);
      expect(events.filter((e) => e.type === 'token.fetched')).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('picks up a rotated secret from its source after invalid_client, without a restart', async () => {
    const rotating = await server.admin.createClient({ name: 'rotating-service' });
    await server.admin.createGrant({ clientId: rotating.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    let stored = rotating.clientSecret!;
    const client = createTokenClient({ issuer: server.issuer, clientId: rotating.clientId, clientSecret: async () => stored, audience: PAYMENTS, clock });
    try {
      await client.getToken();
      const rotated = await server.admin.rotateClientSecret(rotating.clientId, { graceSeconds: 0 });
      stored = (rotated as { clientSecret: string }).clientSecret;
      client.invalidate((await client.getToken()).accessToken);
      // The cached secret is now refused; the client re-reads it from the source and succeeds.
      await expect(client.getToken()).resolves.toBeDefined();
    } finally {
      client.close();
    }
  });

  it('authenticates with private_key_jwt (RFC 7523)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'orders-key-1', alg: 'ES256', use: 'sig' };
    const registered = await server.admin.createClient({ name: 'keyed-service', jwks: { keys: [publicJwk] } });
    await server.admin.createGrant({ clientId: registered.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const client = createTokenClient({
      issuer: server.issuer,
      clientId: registered.clientId,
      privateKey: { ...(await exportJWK(privateKey)), kid: 'orders-key-1', alg: 'ES256' },
      audience: PAYMENTS,
      clock,
    });
    try {
      expect((await createAuthFetch(client)(`${api.url}/payments`)).status).toBe(200);
    } finally {
      client.close();
    }
  });

  it('surfaces a refused scope at once as a typed invalid_scope error', async () => {
    const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret: secret, audience: PAYMENTS, scope: 'payments:write', clock });
    try {
      const error = await client.getToken().catch((e: unknown) => e);
      expect(isOAuthError(error, 'invalid_scope')).toBe(true);
    } finally {
      client.close();
    }
  });

  it('never shows the secret or the token in errors, JSON or inspect output', async () => {
    const client = createTokenClient({ issuer: server.issuer, clientId, clientSecret: secret, audience: PAYMENTS, clock });
    const wrong = createTokenClient({
      issuer: server.issuer,
      clientId,
      clientSecret: `${secret}x`,
      authMethod: 'client_secret_post',
      audience: PAYMENTS,
      clock,
    });
    try {
      const token = await client.getToken();
      const error = await wrong.getToken().catch((e: unknown) => e);
      const outputs = [
        inspect(client, { depth: 5, showHidden: true }),
        JSON.stringify(client),
        inspect(token, { depth: 5 }),
        JSON.stringify(token),
        inspect(error, { depth: 5 }),
        String(error),
        JSON.stringify(error),
      ];
      for (const output of outputs) {
        expect(output).not.toContain(secret);
        expect(output).not.toContain(token.accessToken);
      }
      expect(JSON.stringify(token)).toContain('[redacted]');
    } finally {
      client.close();
      wrong.close();
    }
  });
});
