import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@m2m-auth/server';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import { createVerifier, presets, type ResourceServerEvent } from '../src/index.js';

const PAYMENTS = 'https://payments.example';

/** Tokens from the real m2m-auth server, checked by real Express and Fastify APIs on loopback. */
describe('end to end with the m2m-auth server', () => {
  let now = Date.now();
  let server: RunningServer;
  let client: { clientId: string; clientSecret: string };
  const apis: Array<{ name: string; url: string; close(): Promise<void> }> = [];
  const events: ResourceServerEvent[] = [];

  const token = async (scope?: string, audience = PAYMENTS) => {
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience, ...(scope ? { scope } : {}) }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    server = await startServer({ storage: 'memory', port: 0, logger: 'silent', clock: () => now });
    await server.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read', 'payments:write'], signingAlg: 'ES256' });
    await server.admin.createApi({ identifier: 'https://inventory.example', scopes: ['inventory:read'] });
    const created = await server.admin.createClient({ name: 'orders-service' });
    client = { clientId: created.clientId, clientSecret: created.clientSecret! };
    await server.admin.createGrant({ clientId: client.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read', 'payments:write'] });
    await server.admin.createGrant({ clientId: client.clientId, apiIdentifier: 'https://inventory.example', scopes: ['inventory:read'] });

    const verifierOptions = {
      preset: presets.m2mAuth({ issuer: server.issuer, audience: PAYMENTS }),
      now: () => now,
      onEvent: (e: ResourceServerEvent) => events.push(e),
    };

    const app = express();
    app.get('/payments', expressAdapter.requireAuth(verifierOptions), expressAdapter.requireScopes(['payments:read']), (req, res) =>
      res.json({ subject: req.auth!.subject, clientId: req.auth!.clientId, scopes: req.auth!.scopes }),
    );
    app.post('/payments', expressAdapter.requireAuth(verifierOptions), expressAdapter.requireScopes(['payments:write']), (_req, res) =>
      res.status(201).json({ ok: true }),
    );
    const listening = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apis.push({
      name: 'express',
      url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`,
      close: () => new Promise((r) => listening.close(() => r())),
    });

    const fastify = Fastify();
    await fastify.register(fastifyAdapter.resourceServer);
    const auth = fastifyAdapter.requireAuth(verifierOptions);
    fastify.get('/payments', { preHandler: [auth, fastifyAdapter.requireScopes(['payments:read'])] }, async (request) => ({
      subject: request.auth!.subject,
      clientId: request.auth!.clientId,
      scopes: request.auth!.scopes,
    }));
    fastify.post('/payments', { preHandler: [auth, fastifyAdapter.requireScopes(['payments:write'])] }, async (_request, reply) =>
      reply.code(201).send({ ok: true }),
    );
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    apis.push({ name: 'fastify', url: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`, close: () => fastify.close() });
  });

  afterAll(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await server.close();
  });

  it('a token with the right scope is accepted by both adapters', async () => {
    const accessToken = await token('payments:read');
    for (const api of apis) {
      const response = await fetch(`${api.url}/payments`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status, api.name).toBe(200);
      expect(await response.json()).toEqual({ subject: client.clientId, clientId: client.clientId, scopes: ['payments:read'] });
    }
  });

  it('a token without the route scope gets 403 insufficient_scope', async () => {
    const accessToken = await token('payments:read');
    for (const api of apis) {
      const response = await fetch(`${api.url}/payments`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status, api.name).toBe(403);
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(response.headers.get('www-authenticate')).toContain('scope="payments:write"');
    }
  });

  it('a token for another API is refused as not meant for this API', async () => {
    const inventoryToken = await token(undefined, 'https://inventory.example');
    for (const api of apis) {
      const response = await fetch(`${api.url}/payments`, { headers: { authorization: `Bearer ${inventoryToken}` } });
      expect(response.status, api.name).toBe(401);
      expect(((await response.json()) as { error_description: string }).error_description).toBe('The access token is not meant for this API.');
    }
  });

  it('after a signing-key rotation, new tokens verify (new kid fetched) and old ones still do', async () => {
    const before = await token('payments:read');
    await server.admin.rotateSigningKey('ES256', PAYMENTS);
    now += 60_000; // past the unknown-kid cooldown, as in production after a rotation
    const after = await token('payments:read');
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).not.toBe(
      JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid,
    );
    for (const api of apis) {
      for (const accessToken of [after, before]) {
        const response = await fetch(`${api.url}/payments`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(response.status, api.name).toBe(200);
      }
    }
  });

  it('once the token expires it is refused as expired, even if it was cached', async () => {
    const accessToken = await token('payments:read');
    for (const api of apis) expect((await fetch(`${api.url}/payments`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    now += 16 * 60_000; // the default TTL is 15 minutes
    for (const api of apis) {
      const response = await fetch(`${api.url}/payments`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status, api.name).toBe(401);
      expect(((await response.json()) as { error_description: string }).error_description).toBe('The access token expired.');
    }
  });

  it('rejections are reported as events with reason, issuer and client — never the token', async () => {
    const accessToken = await token(undefined, 'https://inventory.example');
    events.length = 0;
    await fetch(`${apis[0]!.url}/payments`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(events).toContainEqual({
      type: 'token.rejected',
      reason: 'wrong_audience',
      code: 'invalid_token',
      issuer: server.issuer,
      clientId: client.clientId,
    });
    expect(JSON.stringify(events)).not.toContain(accessToken.split('.')[2]);
  });

  it('introspection (RFC 7662) against the real server: active tokens pass, garbage is inactive', async () => {
    // The resource server introspects as its own client, allowed to see tokens for its API.
    const rs = await server.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
    const verifier = createVerifier({
      issuer: server.issuer,
      audience: PAYMENTS,
      now: () => now,
      introspection: { clientId: rs.clientId, clientSecret: rs.clientSecret!, mode: 'always' },
    });
    const principal = await verifier.verify(await token('payments:read'));
    expect(principal).toMatchObject({ subject: client.clientId, scopes: ['payments:read'] });
    await expect(verifier.verify('opaque-garbage-token')).rejects.toMatchObject({ code: 'invalid_token', reason: 'inactive' });
  });

  it('an API switched to opaque tokens: the same verifier introspects its handles and still verifies its JWTs offline', async () => {
    const LEDGER = 'https://ledger.example';
    await server.admin.createApi({ identifier: LEDGER, scopes: ['ledger:read'] });
    await server.admin.createGrant({ clientId: client.clientId, apiIdentifier: LEDGER, scopes: ['ledger:read'] });
    const rs = await server.admin.createClient({ name: 'ledger-api', introspectApis: [LEDGER] });
    const introspections: string[] = [];
    const verifier = createVerifier({
      issuer: server.issuer,
      audience: LEDGER,
      now: () => now,
      // Only credentials: the way each token goes is decided per token.
      introspection: { clientId: rs.clientId, clientSecret: rs.clientSecret! },
      fetch: async (input, init) => {
        if (String(input).endsWith('/oauth/introspect')) introspections.push(String(input));
        return fetch(input, init);
      },
    });
    const jwt = await token(undefined, LEDGER);
    await expect(verifier.verify(jwt)).resolves.toMatchObject({ source: 'jwt', scopes: ['ledger:read'] });
    expect(introspections).toHaveLength(0);

    await server.admin.updateApi(LEDGER, { tokenFormat: 'opaque' });
    const handle = await token(undefined, LEDGER);
    expect(handle).toMatch(/^m2mat_/);
    await expect(verifier.verify(handle)).resolves.toMatchObject({
      source: 'introspection',
      subject: client.clientId,
      scopes: ['ledger:read'],
      audience: [LEDGER],
    });
    expect(introspections).toHaveLength(1);
    await expect(verifier.verify(jwt)).resolves.toMatchObject({ source: 'jwt' });

    // Revoked: refused once the answer kept for it (60 s by default) has gone.
    const revoked = await fetch(`${server.url}/oauth/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: handle }),
    });
    expect(revoked.status).toBe(200);
    now += 61_000;
    await expect(verifier.verify(handle)).rejects.toMatchObject({ code: 'invalid_token', reason: 'inactive' });
  });
});
