#!/usr/bin/env node
// A Fastify API that accepts only m2m-auth tokens for its audience, with scopes per route.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example PORT=3000 \
//   node packages/resource-server/examples/fastify-api.mjs
import Fastify from 'fastify';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes, resourceServer } from '@m2m-auth/resource-server/fastify';

const { M2M_AUTH_ISSUER = 'http://127.0.0.1:8080', AUDIENCE = 'https://orders.example', PORT = '3000' } = process.env;

const verifier = createVerifier({ issuer: M2M_AUTH_ISSUER, audience: AUDIENCE, jwks: { prefetch: true } });
const authenticate = requireAuth(verifier);

const app = Fastify({ logger: true });
await app.register(resourceServer); // decorates request.auth
app.get('/health', async () => ({ ok: true }));
app.get('/orders', { preHandler: [authenticate, requireScopes(['read:orders'])] }, async (request) => ({ orders: [], caller: request.auth.clientId }));
app.post('/orders', { preHandler: [authenticate, requireScopes(['write:orders'])] }, async (request, reply) =>
  reply.code(201).send({ created: true, caller: request.auth.clientId }),
);

await app.listen({ port: Number(PORT), host: '127.0.0.1' });
