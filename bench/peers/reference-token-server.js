#!/usr/bin/env node
// The physical-limit reference: the irreducible work of a client-credentials token endpoint and
// nothing else. node:http, form parsing, a Basic credential checked by HMAC-SHA-256 and
// timingSafeEqual, the RFC 9068 claims, one node:crypto signature per request — ES256 on the event
// loop (cheap), RS256 on the libuv threadpool (expensive, so it must not block the loop).
// No storage, no grants, no logging, no metrics: it shows what this machine can do at most.
//
// env: PORT, ALG (ES256 | RS256), WORKERS (1 | n, node:cluster). Prints one JSON ready line.
import cluster from 'node:cluster';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const alg = process.env.ALG ?? 'ES256';
const workers = Number(process.env.WORKERS ?? 1);
const ISSUER = `http://127.0.0.1:${port}`;
const AUDIENCE = 'https://api.bench.example';
const SCOPE = 'read:things';
const CLIENT_ID = 'bench-client';
// Fixed so that all workers agree without coordination; a real server would load these.
const CLIENT_SECRET = 'reference-bench-secret-0123456789abcdef';
const PEPPER = Buffer.from('reference-bench-pepper');
const SECRET_HASH = createHmac('sha256', PEPPER).update(CLIENT_SECRET).digest();
const TTL_SECONDS = 900;

if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork().on('listening', () => {
      listening += 1;
      if (listening === workers) announce();
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  serve();
}

function announce() {
  process.stdout.write(
    `${JSON.stringify({ ready: true, url: ISSUER, tokenPath: '/oauth/token', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: AUDIENCE, scope: SCOPE })}\n`,
  );
}

function serve() {
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(8).toString('base64url');
  const header = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');
  const signingKey = alg === 'RS256' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' };

  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/oauth/token') return reply(response, 404, { error: 'not_found' });
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('grant_type') !== 'client_credentials') return reply(response, 400, { error: 'unsupported_grant_type' });
      if (!authenticate(request.headers.authorization)) return reply(response, 401, { error: 'invalid_client' });
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: ISSUER,
        sub: CLIENT_ID,
        aud: form.get('resource') ?? AUDIENCE,
        exp: now + TTL_SECONDS,
        iat: now,
        nbf: now,
        jti: randomUUID(),
        client_id: CLIENT_ID,
        scope: form.get('scope') ?? SCOPE,
      };
      const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const send = (signature) =>
        reply(response, 200, {
          access_token: `${signingInput}.${signature.toString('base64url')}`,
          token_type: 'Bearer',
          expires_in: TTL_SECONDS,
          scope: claims.scope,
        });
      if (alg === 'RS256') {
        sign('sha256', Buffer.from(signingInput), signingKey, (error, signature) =>
          error ? reply(response, 500, { error: 'server_error' }) : send(signature),
        );
      } else {
        send(sign('sha256', Buffer.from(signingInput), signingKey));
      }
    });
  });
  server.listen(port, '127.0.0.1', () => {
    if (workers <= 1) announce();
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function authenticate(authorization) {
  if (!authorization?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0 || decodeURIComponent(decoded.slice(0, colon)) !== CLIENT_ID) return false;
  const presented = createHmac('sha256', PEPPER)
    .update(decodeURIComponent(decoded.slice(colon + 1)))
    .digest();
  return timingSafeEqual(presented, SECRET_HASH);
}

function reply(response, status, body) {
  const payload = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(payload) });
  response.end(payload);
}
