#!/usr/bin/env node
// An Express API run as several instances behind a load balancer: one-time tokens are refused the
// second time on every instance, and introspection answers are shared, through one Redis.
//
//   M2M_AUTH_ISSUER=http://127.0.0.1:8080 AUDIENCE=https://orders.example REDIS_URL=redis://127.0.0.1:6379 \
//   PORT=3000 node packages/resource-server/examples/redis-api.mjs      # and PORT=3001 … for more instances
import express from 'express';
import { Redis } from 'ioredis';
import { createVerifier } from '@m2m-auth/resource-server';
import { requireAuth, requireScopes } from '@m2m-auth/resource-server/express';
import { createRedisIntrospectionCache, createRedisReplayStore } from '@m2m-auth/resource-server/redis';

const { M2M_AUTH_ISSUER = 'http://127.0.0.1:8080', AUDIENCE = 'https://orders.example', REDIS_URL = 'redis://127.0.0.1:6379', PORT = '3000' } = process.env;

// One connection for both; a key prefix per API, so two APIs sharing the Redis never share ids.
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
redis.on('error', (error) => console.warn(`redis: ${error.message}`)); // ioredis reconnects by itself
const keyPrefix = process.env.KEY_PREFIX ?? 'orders-api:';

const verifier = createVerifier({
  issuer: M2M_AUTH_ISSUER,
  audience: AUDIENCE,
  // A jti seen by any instance is refused by all of them; Redis down → 503, never a second use.
  replayDetection: createRedisReplayStore({ redis, keyPrefix }),
  // Opaque tokens (and, with mode 'always', every token) are introspected once for all instances;
  // Redis down → each instance introspects by itself.
  ...(process.env.INTROSPECTION_CLIENT_ID && {
    introspection: {
      clientId: process.env.INTROSPECTION_CLIENT_ID,
      clientSecret: process.env.INTROSPECTION_CLIENT_SECRET,
      cache: createRedisIntrospectionCache({ redis, keyPrefix }),
    },
  }),
  onEvent: (event) => event.type === 'token.rejected' && console.warn(`rejected: ${event.reason} (client ${event.clientId ?? 'unknown'})`),
});

const app = express();
app.post('/orders', requireAuth(verifier), requireScopes('write:orders'), (req, res) => res.status(201).json({ accepted: true, caller: req.auth.clientId }));
const server = app.listen(Number(PORT), '127.0.0.1', () =>
  console.log(`orders API on http://127.0.0.1:${PORT} (issuer ${M2M_AUTH_ISSUER}, Redis ${REDIS_URL})`),
);

process.once('SIGTERM', () => server.close(() => redis.quit()));
