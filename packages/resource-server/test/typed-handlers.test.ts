import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import { createVerifier, type Principal, type Verifier } from '../src/index.js';
import { claims, createClock, makeKey, mint, type SigningKey, startIssuer, type TestIssuer } from './helpers.js';

/**
 * `authenticated(handler)`: after requireAuth, a handler whose `req.auth` / `request.auth` is typed
 * as set (the expectTypeOf lines are checked by `tsc -p tsconfig.test.json`), and that refuses to
 * run when requireAuth did not. The routes take a typed parameter, so the framework's own generics
 * must still reach the handler.
 */
describe('typed handlers after requireAuth', () => {
  let issuer: TestIssuer;
  let key: SigningKey;
  let verifier: Verifier;
  const clock = createClock();

  beforeAll(async () => {
    key = await makeKey('ES256');
    issuer = await startIssuer({ keys: [key] });
    verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://payments.example', now: clock.now });
  });
  afterAll(() => issuer.close());

  const bearer = async () => ({ authorization: `Bearer ${await mint(key, claims(issuer.issuer))}` });

  it('Express: req.auth is a Principal and req.params the type named; without requireAuth, 500', async () => {
    const app = express();
    app.get(
      '/orders/:id',
      expressAdapter.requireAuth(verifier),
      // Express infers route parameters only for a handler written inline: name them here.
      expressAdapter.authenticated<{ id: string }>((req, res) => {
        expectTypeOf(req.auth).toEqualTypeOf<Principal>();
        expectTypeOf(req.params).toEqualTypeOf<{ id: string }>();
        res.json({ caller: req.auth.clientId, order: req.params.id });
      }),
    );
    app.get(
      '/forgotten',
      expressAdapter.authenticated((req, res) => {
        expectTypeOf(req.auth).toEqualTypeOf<Principal>();
        res.json({ caller: req.auth.clientId });
      }),
    );
    app.use((_error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => res.status(500).json({ error: 'wiring' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetch(`${base}/orders/42`, { headers: await bearer() });
      expect([ok.status, await ok.json()]).toEqual([200, { caller: 'orders-service', order: '42' }]);
      const forgotten = await fetch(`${base}/forgotten`, { headers: await bearer() });
      expect(forgotten.status).toBe(500);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('Fastify: request.auth is a Principal, the route generic reaches the handler; without requireAuth, 500', async () => {
    const app = Fastify();
    await app.register(fastifyAdapter.resourceServer);
    const auth = fastifyAdapter.requireAuth(verifier);
    app.get<{ Params: { id: string } }>(
      '/orders/:id',
      { preHandler: auth },
      fastifyAdapter.authenticated(async (request) => {
        expectTypeOf(request.auth).toEqualTypeOf<Principal>();
        expectTypeOf(request.params).toEqualTypeOf<{ id: string }>();
        return { caller: request.auth.clientId, order: request.params.id };
      }),
    );
    app.get(
      '/forgotten',
      fastifyAdapter.authenticated(async (request) => ({ caller: request.auth.clientId })),
    );
    try {
      const ok = await app.inject({ url: '/orders/42', headers: await bearer() });
      expect([ok.statusCode, ok.json()]).toEqual([200, { caller: 'orders-service', order: '42' }]);
      const forgotten = await app.inject({ url: '/forgotten', headers: await bearer() });
      expect(forgotten.statusCode).toBe(500);
    } finally {
      await app.close();
    }
  });
});
