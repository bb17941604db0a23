import { createServer } from 'node:http';
import { createTokenClient, createAuthFetch } from '@m2m-auth/client';
import * as openidClient from 'openid-client';
import { freePort } from '../lib/free-port.js';
import { formatNumber, summarize } from '../lib/stats.js';
import { AUDIENCE, startM2mAuth } from '../token-endpoint/targets.js';

/**
 * Client SDK figures, in this process (the client is a library, not a server):
 * - the cost of a cached getToken() (target < 1 µs on average);
 * - token requests made for 10,000 concurrent callers of a cold client (must be 1);
 * - authFetch over plain fetch against a local API;
 * - a service making 1,000 API calls: openid-client's clientCredentialsGrant per call (what most
 *   services do) vs the m2m-auth client with its cache, against a real m2m-auth server.
 */
export async function runClientSuite({ progress, repetitions = 5 }) {
  const issuer = await startM2mAuth({ alg: 'ES256', port: await freePort(), workers: 1 });
  const api = await startApi();
  try {
    const issuerUrl = new URL(issuer.request.url).origin;
    const credentials = parseBasic(issuer.request.headers.authorization);
    const makeClient = () =>
      createTokenClient({
        issuer: issuerUrl,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        audience: AUDIENCE,
        scope: 'read:things',
      });

    progress('client: cached getToken');
    const cachedGetToken = await measureCachedGetToken(makeClient, repetitions);

    progress('client: 10,000 concurrent callers');
    const concurrentCallers = await measureConcurrentCallers(makeClient, issuerUrl);

    progress('client: authFetch over fetch');
    const authFetchOverhead = await measureAuthFetch(makeClient, api, repetitions);

    progress('client: 1,000 API calls, openid-client per call vs m2m-auth cached');
    const thousandCalls = await measureThousandCalls(makeClient, api, issuerUrl, credentials, repetitions);

    return { cachedGetToken, concurrentCallers, authFetchOverhead, thousandCalls };
  } finally {
    await api.close();
    await issuer.stop();
  }
}

async function measureCachedGetToken(makeClient, repetitions) {
  const client = makeClient();
  try {
    await client.getToken();
    const calls = 1_000_000;
    const perCallNs = [];
    for (let repetition = 0; repetition < repetitions + 1; repetition += 1) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < calls; i += 1) await client.getToken();
      const elapsed = Number(process.hrtime.bigint() - started);
      if (repetition > 0) perCallNs.push(elapsed / calls); // the first round warms the JIT
    }
    return { calls, nanosecondsPerCall: summarize(perCallNs) };
  } finally {
    client.close();
  }
}

async function measureConcurrentCallers(makeClient, issuerUrl) {
  const client = makeClient();
  try {
    const tokensBefore = await countIssuedTokens(issuerUrl);
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => client.getToken()));
    const distinct = new Set(tokens.map((t) => t.accessToken)).size;
    return { callers: tokens.length, distinctTokens: distinct, tokenRequests: (await countIssuedTokens(issuerUrl)) - tokensBefore };
  } finally {
    client.close();
  }
}

async function measureAuthFetch(makeClient, api, repetitions) {
  const client = makeClient();
  const authFetch = createAuthFetch(client);
  try {
    const { accessToken } = await client.getToken();
    const plain = () => fetch(`${api.url}/things`, { headers: { authorization: `Bearer ${accessToken}` } }).then(drain);
    const wrapped = () => authFetch(`${api.url}/things`).then(drain);
    const requests = 2_000;
    const plainUs = [];
    const wrappedUs = [];
    await timeSequential(plain, 200);
    await timeSequential(wrapped, 200);
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      plainUs.push(await timeSequential(plain, requests));
      wrappedUs.push(await timeSequential(wrapped, requests));
    }
    const overhead = plainUs.map((p, i) => wrappedUs[i] - p);
    return {
      requests,
      plainMicrosPerRequest: summarize(plainUs),
      authFetchMicrosPerRequest: summarize(wrappedUs),
      overheadMicrosPerRequest: summarize(overhead),
    };
  } finally {
    client.close();
  }
}

async function measureThousandCalls(makeClient, api, issuerUrl, credentials, repetitions) {
  const calls = 1_000;
  const config = await openidClient.discovery(new URL(issuerUrl), credentials.clientId, credentials.clientSecret, undefined, {
    execute: [openidClient.allowInsecureRequests],
  });
  const withOpenidClient = async () => {
    for (let i = 0; i < calls; i += 1) {
      const token = await openidClient.clientCredentialsGrant(config, { scope: 'read:things', audience: AUDIENCE });
      await fetch(`${api.url}/things`, { headers: { authorization: `Bearer ${token.access_token}` } }).then(drain);
    }
  };
  const withM2mAuth = async () => {
    const client = makeClient();
    const authFetch = createAuthFetch(client);
    try {
      for (let i = 0; i < calls; i += 1) await authFetch(`${api.url}/things`).then(drain);
    } finally {
      client.close();
    }
  };
  const runs = { openidClient: [], m2mAuth: [] };
  const tokenRequests = { openidClient: 0, m2mAuth: 0 };
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    for (const [name, run] of [
      ['openidClient', withOpenidClient],
      ['m2mAuth', withM2mAuth],
    ]) {
      const before = await countIssuedTokens(issuerUrl);
      const started = performance.now();
      await run();
      runs[name].push(performance.now() - started);
      tokenRequests[name] = (await countIssuedTokens(issuerUrl)) - before;
    }
  }
  return {
    calls,
    openidClientMs: summarize(runs.openidClient),
    m2mAuthMs: summarize(runs.m2mAuth),
    tokenRequestsPerRun: tokenRequests,
  };
}

/**
 * A stand-in protected API on loopback that checks only the shape of the Bearer header: the client
 * is what is measured here, not token verification.
 */
async function startApi() {
  const server = createServer((request, response) => {
    const ok = /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(request.headers.authorization ?? '');
    response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    response.end(ok ? '{"things":[]}' : '{"error":"invalid_token"}');
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Tokens the authorization server has issued so far, from its Prometheus counter. */
async function countIssuedTokens(issuerUrl) {
  const text = await (await fetch(`${issuerUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('m2m_auth_tokens_issued_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function timeSequential(call, count) {
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await call();
  return ((performance.now() - started) * 1000) / count;
}

const drain = (response) => response.arrayBuffer();

function parseBasic(authorization) {
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString();
  const colon = decoded.indexOf(':');
  return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
}

export function clientTable(results) {
  const { cachedGetToken: cached, concurrentCallers: concurrent, authFetchOverhead: af, thousandCalls: t } = results;
  const us = (s) => `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`;
  return [
    '| measure | result |',
    '|---|---|',
    `| cached \`getToken()\` | ${formatNumber(cached.nanosecondsPerCall.median)} ns per call median (${formatNumber(cached.nanosecondsPerCall.min)}–${formatNumber(cached.nanosecondsPerCall.max)}), ${formatNumber(cached.calls)} awaited calls per run |`,
    `| 10,000 concurrent callers, cold cache | ${concurrent.tokenRequests} token request(s), ${concurrent.distinctTokens} distinct token(s) |`,
    `| plain \`fetch\` to a local API | ${us(af.plainMicrosPerRequest)} µs per request |`,
    `| \`authFetch\` to the same API | ${us(af.authFetchMicrosPerRequest)} µs per request; overhead ${formatNumber(af.overheadMicrosPerRequest.median, 1)} µs |`,
    `| 1,000 API calls, openid-client \`clientCredentialsGrant\` per call | ${us(t.openidClientMs)} ms, ${t.tokenRequestsPerRun.openidClient} token requests |`,
    `| 1,000 API calls, m2m-auth client (cached) | ${us(t.m2mAuthMs)} ms, ${t.tokenRequestsPerRun.m2mAuth} token request(s) |`,
    '',
  ].join('\n');
}
