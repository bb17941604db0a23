import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { measureSideBySide, sideBySideTable } from '../lib/side-by-side.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const apiServer = fileURLToPath(new URL('./api-server.js', import.meta.url));
const AUDIENCE = 'https://api.bench.example';
/** Proofs are made before measuring, so they must stay fresh for the whole run. */
const PROOF_WINDOW_SECONDS = 900;
/** Proofs minted per second of measuring, above the fastest rate seen, so none is sent twice. */
const TOKEN_PROOFS_PER_SECOND = 8_000;
const API_PROOFS_PER_SECOND = 12_000;
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * What DPoP costs against bearer tokens, side by side in one run, on one server (SQLite, one
 * worker, ES256 tokens) and one Express API (resource-server SDK):
 * - at the token endpoint, a token request with HTTP Basic alone, and with a fresh ES256 DPoP
 *   proof (checked, its jti recorded in the shared state, the token bound to the key);
 * - at the API, a bearer call (the SDK's verified-token cache on, and off) and a DPoP call (the
 *   token from the cache, a fresh proof checked and recorded on every call).
 * Proofs are signed before measuring (node:crypto), one per request, so no load run signs.
 */
export async function runDpopSuite({ connections, repetitions, durationSeconds, progress }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-dpop-'));
  const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const tokenEndpoint = `${issuer}/oauth/token`;
  let server;
  let api;
  try {
    cli('init');
    cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '3600');
    const client = cli('clients', 'create', '--name', 'bench-client');
    cli('grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
    server = await startChildServer({
      command: process.execPath,
      args: ['--max-semi-space-size=4', m2mAuthBin, 'serve', '--port', String(port), '--issuer', issuer, '--data-dir', dataDir, '--workers', '1'],
      env: { M2M_AUTH_DPOP_PROOF_WINDOW: String(PROOF_WINDOW_SECONDS) },
      probeUrl: `${issuer}/healthz`,
    });
    const apiPort = await freePort();
    api = await startChildServer({
      command: process.execPath,
      args: [apiServer],
      env: { ISSUER: issuer, AUDIENCE, PORT: String(apiPort), PROOF_WINDOW: String(PROOF_WINDOW_SECONDS) },
      readyLine: true,
    });
    const apiUrl = `http://127.0.0.1:${apiPort}`;

    const key = dpopKey();
    const form = new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }).toString();
    const tokenHeaders = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) };
    const bearerToken = (await (await fetch(tokenEndpoint, { method: 'POST', headers: tokenHeaders, body: form })).json()).access_token;
    const dpopAnswer = await (
      await fetch(tokenEndpoint, { method: 'POST', headers: { ...tokenHeaders, dpop: key.proof('POST', tokenEndpoint) }, body: form })
    ).json();
    if (dpopAnswer.token_type !== 'DPoP') throw new Error(`dpop bench: no DPoP token (${JSON.stringify(dpopAnswer)})`);
    const dpopToken = dpopAnswer.access_token;

    const measuredSeconds = durationSeconds * repetitions + 1;
    progress(
      `dpop: signing ${Math.ceil(TOKEN_PROOFS_PER_SECOND * measuredSeconds)} token-endpoint proofs and ${Math.ceil(API_PROOFS_PER_SECOND * measuredSeconds)} API proofs`,
    );
    const rotating = (proofs) => {
      let next = 0;
      return () => proofs[next++ % proofs.length];
    };
    const tokenProof = rotating(Array.from({ length: Math.ceil(TOKEN_PROOFS_PER_SECOND * measuredSeconds) }, () => key.proof('POST', tokenEndpoint)));
    const apiProof = rotating(Array.from({ length: Math.ceil(API_PROOFS_PER_SECOND * measuredSeconds) }, () => key.proof('GET', `${apiUrl}/dpop`, dpopToken)));

    const variants = [
      { side: 'token endpoint', name: 'bearer (HTTP Basic)', pid: server.pid, url: tokenEndpoint, method: 'POST', headers: tokenHeaders, body: form },
      {
        side: 'token endpoint',
        name: 'DPoP (HTTP Basic + a fresh ES256 proof)',
        pid: server.pid,
        url: tokenEndpoint,
        method: 'POST',
        headers: tokenHeaders,
        body: form,
        proof: tokenProof,
      },
      { side: 'API', name: 'bearer, verified-token cache on', pid: api.pid, url: `${apiUrl}/bearer`, headers: { authorization: `Bearer ${bearerToken}` } },
      { side: 'API', name: 'bearer, cache off', pid: api.pid, url: `${apiUrl}/bearer-uncached`, headers: { authorization: `Bearer ${bearerToken}` } },
      {
        side: 'API',
        name: 'DPoP (token cached, a fresh proof checked)',
        pid: api.pid,
        url: `${apiUrl}/dpop`,
        headers: { authorization: `DPoP ${dpopToken}` },
        proof: apiProof,
      },
    ];
    const load = async (variant, seconds) => {
      const { url, method = 'GET', headers, body, proof } = variant;
      const request = { method, headers, ...(body ? { body } : {}) };
      const result = await autocannon({
        url,
        connections,
        duration: seconds,
        pipelining: 1,
        requests: [proof ? { ...request, setupRequest: (r) => ({ ...r, headers: { ...headers, dpop: proof() } }) } : request],
      });
      return {
        requestsPerSecond: result.requests.total / seconds,
        total: result.requests.total,
        p99Ms: result.latency.p99,
        failed: result.non2xx + result.errors + result.timeouts,
      };
    };
    return await measureSideBySide({ suite: 'dpop', variants, load, connections, repetitions, durationSeconds, progress });
  } finally {
    await api?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A P-256 key and its proofs, signed with node:crypto (fast enough to make a run's worth up front). */
function dpopKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  return {
    proof(method, url, accessToken) {
      const claims = { jti: randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) };
      if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
      const input = `${header}.${b64(claims)}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
  };
}

export function dpopTable(results) {
  return sideBySideTable(results, {
    setup: 'connections; token endpoint: SQLite, one worker, ES256 tokens; API: Express, resource-server SDK, one process',
    baselineLabel: 'vs bearer',
  });
}
