import { createHmac, createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import type { VerifierOptions } from '../src/index.js';
import { claims, createClock, makeKey, mint, nowSeconds, startIssuer, type SigningKey, type TestIssuer } from './helpers.js';

const AUDIENCE = 'https://payments.example';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/**
 * The same protected API on each adapter: GET /orders needs payments:read (scopes as an array),
 * GET /refunds payments:admin (as a string, the express-oauth2-jwt-bearer way), GET /settlements
 * the authority Payments.Settle (a role).
 */
const adapters: Record<string, (options: VerifierOptions) => Promise<RunningApi>> = {
  express: async (options) => {
    const app = express();
    const auth = expressAdapter.requireAuth(options);
    app.get('/orders', auth, expressAdapter.requireScopes(['payments:read']), (req, res) => res.json({ subject: req.auth!.subject, scopes: req.auth!.scopes }));
    app.get('/refunds', auth, expressAdapter.requireScopes('payments:admin'), (_req, res) => res.json({ ok: true }));
    app.get('/settlements', auth, expressAdapter.requireAuthorities('Payments.Settle'), (_req, res) => res.json({ ok: true }));
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
  },
  fastify: async (options) => {
    const app = Fastify();
    await app.register(fastifyAdapter.resourceServer);
    const auth = fastifyAdapter.requireAuth(options);
    app.get('/orders', { preHandler: [auth, fastifyAdapter.requireScopes(['payments:read'])] }, async (request) => ({
      subject: request.auth!.subject,
      scopes: request.auth!.scopes,
    }));
    app.get('/refunds', { preHandler: [auth, fastifyAdapter.requireScopes('payments:admin')] }, async () => ({ ok: true }));
    app.get('/settlements', { preHandler: [auth, fastifyAdapter.requireAuthorities('Payments.Settle')] }, async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
};

for (const [adapterName, startApi] of Object.entries(adapters)) {
  describe(`attack suite through the ${adapterName} adapter`, () => {
    const clock = createClock();
    let issuer: TestIssuer;
    let key: SigningKey;
    let api: RunningApi;

    beforeAll(async () => {
      key = await makeKey('ES256', 'key-1');
      issuer = await startIssuer({ keys: [key] });
      api = await startApi({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        now: clock.now,
        realm: 'payments',
        authorities: { scopeClaims: ['scope'], roleClaims: ['roles'] },
      });
    });
    afterAll(async () => {
      await api.close();
      await issuer.close();
    });

    const call = async (authorization?: string, path = '/orders') => {
      const response = await fetch(`${api.url}${path}`, authorization ? { headers: { authorization } } : {});
      return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
    };
    const refused = (description: string) => ({
      status: 401,
      challenge: `Bearer realm="payments", error="invalid_token", error_description="${description}"`,
      body: { error: 'invalid_token', error_description: description },
    });

    it('accepts a valid token and hands the route a principal', async () => {
      const result = await call(`Bearer ${await mint(key, claims(issuer.issuer))}`);
      expect(result).toEqual({ status: 200, challenge: null, body: { subject: 'orders-service', scopes: ['payments:read', 'payments:write'] } });
    });

    it('no token: 401 with a bare challenge (RFC 6750 §3.1)', async () => {
      expect(await call()).toEqual({
        status: 401,
        challenge: 'Bearer realm="payments"',
        body: { error: 'unauthorized', error_description: 'A bearer token is required.' },
      });
    });

    it('a header with two tokens: 400 invalid_request', async () => {
      const token = await mint(key, claims(issuer.issuer));
      const result = await call(`Bearer ${token} Bearer ${token}`);
      expect(result.status).toBe(400);
      expect(result.challenge).toBe(
        'Bearer realm="payments", error="invalid_request", error_description="The Authorization header must be \\"Bearer <token>\\"."',
      );
      expect(result.body.error).toBe('invalid_request');
    });

    it('alg none', async () => {
      const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims(issuer.issuer))}.`;
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token is not a well-formed JWT.'));
      const withSignature = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims(issuer.issuer))}.AAAA`;
      expect(await call(`Bearer ${withSignature}`)).toEqual(refused('The access token is signed with an algorithm this API does not accept.'));
    });

    it('HS256 keyed with the public key (algorithm confusion)', async () => {
      const publicPem = createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims(issuer.issuer))}`;
      const forged = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      expect(await call(`Bearer ${forged}`)).toEqual(refused('The access token is signed with an algorithm this API does not accept.'));
    });

    it('a foreign key under a known kid', async () => {
      const foreign = await makeKey('ES256', 'key-1');
      expect(await call(`Bearer ${await mint(foreign, claims(issuer.issuer))}`)).toEqual(refused('The access token signature is invalid.'));
    });

    it('a flipped signature byte', async () => {
      const token = await mint(key, claims(issuer.issuer));
      const [h, p, s] = token.split('.');
      const signature = Buffer.from(s!, 'base64url');
      signature[10] = signature[10]! ^ 0x01;
      expect(await call(`Bearer ${h}.${p}.${signature.toString('base64url')}`)).toEqual(refused('The access token signature is invalid.'));
    });

    it('a changed payload', async () => {
      const token = await mint(key, claims(issuer.issuer));
      const [h, , s] = token.split('.');
      const widened = b64(claims(issuer.issuer, { scope: 'payments:read payments:admin' }));
      expect(await call(`Bearer ${h}.${widened}.${s}`)).toEqual(refused('The access token signature is invalid.'));
    });

    it('expired', async () => {
      const token = await mint(key, claims(issuer.issuer, { exp: nowSeconds() - 60, iat: nowSeconds() - 1000, nbf: nowSeconds() - 1000 }));
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token expired.'));
    });

    it('not yet valid', async () => {
      const token = await mint(key, claims(issuer.issuer, { nbf: nowSeconds() + 120 }));
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token is not valid yet.'));
    });

    it('wrong issuer', async () => {
      const token = await mint(key, claims('https://evil.example'));
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token was issued by an untrusted issuer.'));
    });

    it('wrong audience', async () => {
      const token = await mint(key, claims(issuer.issuer, { aud: 'https://inventory.example' }));
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token is not meant for this API.'));
    });

    it('typ JWT where at+jwt is required', async () => {
      const token = await mint(key, claims(issuer.issuer), { typ: 'JWT' });
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token is not an RFC 9068 access token (typ must be at+jwt).'));
    });

    it('an oversized token', async () => {
      const token = await mint(key, claims(issuer.issuer, { padding: 'x'.repeat(9000) }));
      expect(await call(`Bearer ${token}`)).toEqual(refused('The access token is too large.'));
    });

    it('missing scope: 403 insufficient_scope naming what is needed', async () => {
      const result = await call(`Bearer ${await mint(key, claims(issuer.issuer))}`, '/refunds');
      expect(result).toEqual({
        status: 403,
        // The realm is the verifier's ("payments"), not a default the scope check made up.
        challenge:
          'Bearer realm="payments", error="insufficient_scope", error_description="The access token needs the scopes: payments:admin.", scope="payments:admin"',
        body: { error: 'insufficient_scope', error_description: 'The access token needs the scopes: payments:admin.', scope: 'payments:admin' },
      });
      expect((await call(`Bearer ${await mint(key, claims(issuer.issuer, { scope: 'payments:admin' }))}`, '/refunds')).status).toBe(200);
    });

    it('requireAuthorities: a role from roleClaims passes; without it 403 insufficient_scope, no scope attribute', async () => {
      const withRole = await call(`Bearer ${await mint(key, claims(issuer.issuer, { roles: ['Payments.Settle'] }))}`, '/settlements');
      expect(withRole).toEqual({ status: 200, challenge: null, body: { ok: true } });
      const withoutRole = await call(`Bearer ${await mint(key, claims(issuer.issuer, { roles: ['Payments.Read'] }))}`, '/settlements');
      expect(withoutRole).toEqual({
        status: 403,
        challenge: 'Bearer realm="payments", error="insufficient_scope", error_description="The access token needs the authorities: Payments.Settle."',
        body: { error: 'insufficient_scope', error_description: 'The access token needs the authorities: Payments.Settle.' },
      });
    });
  });

  describe(`query-parameter tokens through the ${adapterName} adapter (RFC 6750 §2.3)`, () => {
    const clock = createClock();
    let issuer: TestIssuer;
    let key: SigningKey;
    let strictApi: RunningApi;
    let queryApi: RunningApi;

    beforeAll(async () => {
      key = await makeKey('ES256', 'key-1');
      issuer = await startIssuer({ keys: [key] });
      strictApi = await startApi({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now });
      queryApi = await startApi({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, bearer: { allowQuery: true } });
    });
    afterAll(async () => {
      await strictApi.close();
      await queryApi.close();
      await issuer.close();
    });

    it('accepts ?access_token= only when enabled', async () => {
      const token = await mint(key, claims(issuer.issuer));
      const enabled = await fetch(`${queryApi.url}/orders?access_token=${token}`);
      expect(enabled.status).toBe(200);
      const disabled = await fetch(`${strictApi.url}/orders?access_token=${token}`);
      expect(disabled.status).toBe(401);
      expect(disabled.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });

    it('refuses a token in the header and the query at once: 400 invalid_request', async () => {
      const token = await mint(key, claims(issuer.issuer));
      const response = await fetch(`${queryApi.url}/orders?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    });
  });
}

describe('JWKS availability and rotation', () => {
  it('JWKS down before any key was loaded: 503, no challenge', async () => {
    const key = await makeKey('RS256', 'k1');
    const issuer = await startIssuer({ keys: [key] });
    issuer.setJwksStatus(500);
    const api = await adapters.express!({ issuer: issuer.issuer, audience: AUDIENCE, now: createClock().now });
    try {
      const response = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${await mint(key, claims(issuer.issuer))}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'The signing keys of the token issuer cannot be obtained right now.',
      });
    } finally {
      await api.close();
      await issuer.close();
    }
  });

  it('JWKS down after keys were loaded: tokens signed by known keys still pass (stale-if-error)', async () => {
    const clock = createClock();
    const key = await makeKey('RS256', 'k1');
    const issuer = await startIssuer({ keys: [key] });
    const api = await adapters.express!({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, cache: false });
    try {
      const first = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${await mint(key, claims(issuer.issuer))}` } });
      expect(first.status).toBe(200);
      issuer.setJwksStatus(503);
      clock.advance(3_600_000); // far past the JWKS max-age of 300 s
      const token = await mint(key, claims(issuer.issuer, { exp: nowSeconds() + 7200, iat: nowSeconds() + 3590, nbf: nowSeconds() + 3590 }));
      const second = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
      expect(second.status).toBe(200);
    } finally {
      await api.close();
      await issuer.close();
    }
  });

  it('past the JWKS max-age a known key still verifies at once while one background refetch runs', async () => {
    const clock = createClock();
    const key = await makeKey('ES256', 'k1');
    const issuer = await startIssuer({ keys: [key] });
    const api = await adapters.express!({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, cache: false });
    const status = async () => (await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${await mint(key, claims(issuer.issuer))}` } })).status;
    try {
      expect(await status()).toBe(200);
      expect(await status()).toBe(200);
      expect(issuer.jwksFetches()).toBe(1); // fresh for max-age=300: no refetch
      clock.advance(301_000);
      expect(await Promise.all([status(), status(), status()])).toEqual([200, 200, 200]);
      // The revalidation runs in the background: wait for it (bounded), then check it was only one.
      for (let i = 0; i < 100 && issuer.jwksFetches() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await status()).toBe(200);
      expect(issuer.jwksFetches()).toBe(2);
    } finally {
      await api.close();
      await issuer.close();
    }
  });

  it('a rotated key is picked up with one fetch; an unknown-kid flood does not hammer the JWKS', async () => {
    const clock = createClock();
    const oldKey = await makeKey('ES256', 'old');
    const issuer = await startIssuer({ keys: [oldKey] });
    const api = await adapters.fastify!({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now });
    const status = async (token: string) => (await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${token}` } })).status;
    try {
      expect(await status(await mint(oldKey, claims(issuer.issuer)))).toBe(200);
      expect(issuer.jwksFetches()).toBe(1);

      clock.advance(31_000); // past the unknown-kid cooldown
      const newKey = await makeKey('ES256', 'new');
      issuer.setKeys([oldKey, newKey]);
      const rotated = await mint(newKey, claims(issuer.issuer));
      expect(await Promise.all([status(rotated), status(rotated), status(rotated)])).toEqual([200, 200, 200]);
      expect(issuer.jwksFetches()).toBe(2);

      const attacker = await makeKey('ES256');
      const flood = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => status(await mint({ ...attacker, kid: `unknown-${i}` }, claims(issuer.issuer)))),
      );
      expect(new Set(flood)).toEqual(new Set([401]));
      expect(issuer.jwksFetches()).toBe(2); // still inside the cooldown: not one more fetch

      clock.advance(31_000);
      expect(await status(await mint({ ...attacker, kid: 'unknown-again' }, claims(issuer.issuer)))).toBe(401);
      expect(issuer.jwksFetches()).toBe(3); // one fetch per cooldown at most
    } finally {
      await api.close();
      await issuer.close();
    }
  });
});
