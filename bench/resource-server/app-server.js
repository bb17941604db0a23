#!/usr/bin/env node
// The protected API, built the way each contender would build it. One Express app carries every
// Express contender as a route (same process, same framework cost), one Fastify app the same for
// Fastify, and a bare node:http server shows the machine's limit:
//   /public              no auth
//   /protected           m2m-auth SDK, verified-token cache on (its default)
//   /protected-uncached  m2m-auth SDK, cache off: the signature is checked on every request
//   /jwt-bearer          express-oauth2-jwt-bearer (Express only)
//   /jose                jose's jwtVerify + createRemoteJWKSet by hand (Express only)
//   /reference           the irreducible work by hand: one node:crypto verify with the key
//                        imported once, the claim checks, the scope check
// Every protected route requires scope read:things.
//
// env: APP (express | fastify | node-http), ISSUER, AUDIENCE, PORT. Prints one JSON ready line.
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { createServer } from 'node:http';

const { APP, ISSUER, AUDIENCE } = process.env;
const PORT = Number(process.env.PORT);
const SCOPE = 'read:things';
const publicBody = { status: 'public' };

const apps = { express: expressApp, fastify: fastifyApp, 'node-http': nodeHttpApp };
if (!apps[APP]) throw new Error(`unknown APP ${APP}`);
const close = await apps[APP]();
process.stdout.write(`${JSON.stringify({ ready: true, url: `http://127.0.0.1:${PORT}` })}\n`);
process.on('SIGTERM', () => close().then(() => process.exit(0)));

async function expressApp() {
  const { default: express } = await import('express');
  const sdk = await import('@m2m-auth/resource-server/express');
  const { auth, requiredScopes } = await import('express-oauth2-jwt-bearer');
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const verifyByHand = await referenceVerifier();
  const remoteJwks = createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`));
  const subjectOf = (req, res) => res.json({ subject: req.auth.subject ?? req.auth.payload?.sub });

  const app = express();
  app.get('/public', (_req, res) => res.json(publicBody));
  app.get('/protected', sdk.requireAuth({ issuer: ISSUER, audience: AUDIENCE }), sdk.requireScopes([SCOPE]), subjectOf);
  app.get('/protected-uncached', sdk.requireAuth({ issuer: ISSUER, audience: AUDIENCE, cache: false }), sdk.requireScopes([SCOPE]), subjectOf);
  app.get('/jwt-bearer', auth({ issuerBaseURL: ISSUER, audience: AUDIENCE }), requiredScopes(SCOPE), subjectOf);
  app.get('/jose', async (req, res) => {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(req.headers.authorization ?? '');
    if (!match) return res.status(401).set('www-authenticate', 'Bearer').end();
    try {
      const { payload } = await jwtVerify(match[1], remoteJwks, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' });
      if (
        !String(payload.scope ?? '')
          .split(' ')
          .includes(SCOPE)
      )
        return res.status(403).end();
      return res.json({ subject: payload.sub });
    } catch {
      return res.status(401).set('www-authenticate', 'Bearer error="invalid_token"').end();
    }
  });
  app.get('/reference', (req, res) => {
    const outcome = verifyByHand(req.headers.authorization);
    return res.status(outcome.status).json(outcome.body);
  });
  const server = await new Promise((resolve) => {
    const listening = app.listen(PORT, '127.0.0.1', () => resolve(listening));
  });
  return () => new Promise((resolve) => server.close(() => resolve()));
}

async function fastifyApp() {
  const { default: Fastify } = await import('fastify');
  const sdk = await import('@m2m-auth/resource-server/fastify');
  const verifyByHand = await referenceVerifier();
  const app = Fastify();
  await app.register(sdk.resourceServer); // as the README says: decorates request.auth
  app.get('/public', async () => publicBody);
  const subjectOf = async (request) => ({ subject: request.auth.subject });
  app.get('/protected', { preHandler: [sdk.requireAuth({ issuer: ISSUER, audience: AUDIENCE }), sdk.requireScopes([SCOPE])] }, subjectOf);
  app.get(
    '/protected-uncached',
    { preHandler: [sdk.requireAuth({ issuer: ISSUER, audience: AUDIENCE, cache: false }), sdk.requireScopes([SCOPE])] },
    subjectOf,
  );
  app.get('/reference', async (request, reply) => {
    const outcome = verifyByHand(request.headers.authorization);
    return reply.code(outcome.status).send(outcome.body);
  });
  await app.listen({ port: PORT, host: '127.0.0.1' });
  return () => app.close();
}

/** node:http with nothing else: what the machine can do at most. */
async function nodeHttpApp() {
  const verifyByHand = await referenceVerifier();
  const server = createServer((request, response) => {
    if (request.url === '/public') return reply(response, 200, publicBody);
    if (request.url !== '/reference') return reply(response, 404, { error: 'not_found' });
    const outcome = verifyByHand(request.headers.authorization);
    return reply(response, outcome.status, outcome.body);
  });
  await new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  return () => new Promise((resolve) => server.close(() => resolve()));
}

/** The irreducible work: keys imported once at start, one synchronous verify per request. */
async function referenceVerifier() {
  const jwks = await (await fetch(`${ISSUER}/.well-known/jwks.json`)).json();
  const keys = new Map(jwks.keys.map((jwk) => [jwk.kid, { alg: jwk.alg, key: createPublicKey({ key: jwk, format: 'jwk' }) }]));
  const refused = { status: 401, body: { error: 'invalid_token' } };
  return (authorization = '') => {
    if (!authorization.startsWith('Bearer ')) return refused;
    const [encodedHeader, encodedPayload, encodedSignature] = authorization.slice(7).split('.');
    try {
      const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString());
      const entry = keys.get(header.kid);
      if (!entry || entry.alg !== header.alg || header.typ !== 'at+jwt') return refused;
      const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`);
      const signature = Buffer.from(encodedSignature, 'base64url');
      const key = header.alg === 'ES256' ? { key: entry.key, dsaEncoding: 'ieee-p1363' } : entry.key;
      if (!verifySignature('sha256', signed, key, signature)) return refused;
      const claims = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString());
      const now = Date.now() / 1000;
      if (claims.iss !== ISSUER || claims.aud !== AUDIENCE || !(claims.exp > now) || claims.nbf > now + 5) return refused;
      if (!claims.scope.split(' ').includes(SCOPE)) return { status: 403, body: { error: 'insufficient_scope' } };
      return { status: 200, body: { subject: claims.sub } };
    } catch {
      return refused;
    }
  };
}

function reply(response, status, body) {
  const payload = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  response.end(payload);
}
