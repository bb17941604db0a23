/**
 * Fault tests: the issuer's JWKS endpoint fails (error status, connection refused, no answer at
 * all) while real Express and Fastify APIs on loopback keep serving. Tokens signed by keys the API
 * already holds keep verifying; a token whose key cannot be looked up gets 503 with a proper
 * answer — its token was not judged, so never 401. Bounded: every fetch has a short timeout, and
 * nothing here asserts how long anything took.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import type { ResourceServerEvent, VerifierOptions } from '../src/index.js';
import { claims, createClock, makeKey, mint, startIssuer } from './helpers.js';

const AUDIENCE = 'https://payments.example';
const UNAVAILABLE = {
  status: 503,
  challenge: null,
  retryAfter: '5',
  cacheControl: 'no-store',
  body: { error: 'temporarily_unavailable', error_description: 'The signing keys of the token issuer cannot be obtained right now.' },
};

interface Api {
  call(token: string): Promise<{ status: number; challenge: string | null; retryAfter: string | null; cacheControl: string | null; body: unknown }>;
  close(): Promise<void>;
}

const adapters: Record<string, (options: VerifierOptions) => Promise<Api>> = {
  express: async (options) => {
    const app = express();
    app.get('/orders', expressAdapter.requireAuth(options), expressAdapter.requireScopes('payments:read'), (req, res) =>
      res.json({ caller: req.auth!.subject }),
    );
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return api(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => new Promise((r) => server.close(() => r())));
  },
  fastify: async (options) => {
    const app = Fastify();
    await app.register(fastifyAdapter.resourceServer);
    app.get('/orders', { preHandler: [fastifyAdapter.requireAuth(options), fastifyAdapter.requireScopes('payments:read')] }, async (request) => ({
      caller: request.auth!.subject,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return api(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, () => app.close());
  },
};

function api(url: string, close: () => Promise<void>): Api {
  return {
    async call(token) {
      const response = await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
      return {
        status: response.status,
        challenge: response.headers.get('www-authenticate'),
        retryAfter: response.headers.get('retry-after'),
        cacheControl: response.headers.get('cache-control'),
        body: await response.json(),
      };
    },
    close,
  };
}

/** A server that accepts connections and never answers: the JWKS fetch can only time out. */
async function startSilentServer() {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

for (const [name, start] of Object.entries(adapters)) {
  describe(`JWKS endpoint down, through the ${name} adapter`, () => {
    it('known kids keep verifying; an unknown kid gets 503 while the JWKS fails, 401 once it answers again', async () => {
      const clock = createClock();
      const known = await makeKey('ES256', 'known');
      const rotated = await makeKey('ES256', 'rotated');
      const issuer = await startIssuer({ keys: [known] });
      const events: ResourceServerEvent[] = [];
      const app = await start({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        now: clock.now,
        cache: false,
        jwks: { timeoutMs: 2000 },
        onEvent: (e) => events.push(e),
      });
      try {
        expect((await app.call(await mint(known, claims(issuer.issuer)))).status).toBe(200);

        issuer.setJwksStatus(503);
        clock.advance(3_600_000); // past the JWKS max-age and the unknown-kid cooldown
        const fresh = (overrides = {}) =>
          claims(issuer.issuer, { iat: Math.floor(clock.now() / 1000) - 5, exp: Math.floor(clock.now() / 1000) + 600, ...overrides });
        expect((await app.call(await mint(known, fresh()))).status).toBe(200);

        // The issuer rotated to a key we could not fetch: not the caller's fault.
        expect(await app.call(await mint(rotated, fresh()))).toEqual(UNAVAILABLE);
        // Within the cooldown no new fetch is made, and the answer stays 503 (the last fetch failed).
        const fetches = issuer.jwksFetches();
        expect(await app.call(await mint({ ...rotated, kid: 'another' }, fresh()))).toEqual(UNAVAILABLE);
        expect(issuer.jwksFetches()).toBe(fetches);
        expect((await app.call(await mint(known, fresh()))).status).toBe(200);
        expect(events.some((e) => e.type === 'jwks.refresh_failed')).toBe(true);

        // The JWKS is back with the rotated key: it verifies; a kid that really is unknown is 401.
        issuer.setJwksStatus(200);
        issuer.setKeys([known, rotated]);
        clock.advance(31_000);
        expect((await app.call(await mint(rotated, fresh()))).status).toBe(200);
        const forged = await app.call(await mint({ ...(await makeKey('ES256')), kid: 'forged' }, fresh()));
        expect(forged).toEqual({
          status: 401,
          challenge: 'Bearer realm="api", error="invalid_token", error_description="The access token is signed with an unknown key."',
          retryAfter: null,
          cacheControl: 'no-store',
          body: { error: 'invalid_token', error_description: 'The access token is signed with an unknown key.' },
        });
      } finally {
        await app.close();
        await issuer.close();
      }
    });

    it('issuer gone (connection refused): known kids verify, unknown kids 503', async () => {
      const clock = createClock();
      const known = await makeKey('RS256', 'known');
      const issuer = await startIssuer({ keys: [known] });
      const app = await start({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, cache: false, jwks: { timeoutMs: 2000 } });
      try {
        expect((await app.call(await mint(known, claims(issuer.issuer)))).status).toBe(200);
        await issuer.close();
        clock.advance(31_000);
        expect((await app.call(await mint(known, claims(issuer.issuer)))).status).toBe(200);
        expect(await app.call(await mint({ ...(await makeKey('RS256')), kid: 'new' }, claims(issuer.issuer)))).toEqual(UNAVAILABLE);
      } finally {
        await app.close();
      }
    });

    it('a JWKS that never answers: the fetch times out and the first request gets 503, not a hang', async () => {
      const silent = await startSilentServer();
      const key = await makeKey('ES256', 'k');
      const app = await start({ issuer: 'https://auth.example', jwksUri: silent.url, audience: AUDIENCE, now: createClock().now, jwks: { timeoutMs: 300 } });
      try {
        expect(await app.call(await mint(key, claims('https://auth.example')))).toEqual(UNAVAILABLE);
      } finally {
        await app.close();
        await silent.close();
      }
    });
  });
}
