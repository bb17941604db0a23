import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const AUDIENCE = 'https://api.bench.example';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * What a federated authentication costs against a secret one, on one server (SQLite, one worker):
 * the same client_credentials grant authenticated by
 * - its secret (HTTP Basic);
 * - a Kubernetes-style platform token, reused for its lifetime (signature and claims checked on
 *   every request, no replay record);
 * - a use-once OIDC platform token (a fresh token per request, its jti recorded in the shared state).
 * The platform's keys are given inline (`issuers add --jwks-file`), so nothing is fetched while measuring.
 */
export async function runFederationSuite({ connections, repetitions, durationSeconds, progress }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-federation-'));
  const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  let server;
  try {
    progress('federation: preparing the issuers and the client');
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwksFile = join(dataDir, 'platform-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'platform-1', alg: 'ES256', use: 'sig' }] }));
    const cluster = 'https://cluster.bench.example';
    const ci = 'https://ci.bench.example';
    cli('init');
    cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '900');
    const client = cli('clients', 'create', '--name', 'bench-client');
    cli('grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
    cli('issuers', 'add', '--issuer', cluster, '--jwks-file', jwksFile, '--kind', 'kubernetes');
    cli('issuers', 'add', '--issuer', ci, '--jwks-file', jwksFile, '--kind', 'oidc');
    cli(
      'clients',
      'federated',
      'add',
      '--client',
      client.client_id,
      '--issuer',
      cluster,
      '--subject',
      'system:serviceaccount:bench:worker',
      '--audience',
      issuer,
    );
    cli(
      'clients',
      'federated',
      'add',
      '--client',
      client.client_id,
      '--issuer',
      ci,
      '--subject',
      'repo:bench/worker:ref:refs/heads/main',
      '--audience',
      issuer,
    );

    const platformToken = (iss, sub, jti) => {
      const nowS = Math.floor(Date.now() / 1000);
      const claims = { iss, sub, aud: issuer, iat: nowS, exp: nowS + 3000, ...(jti ? { jti } : {}) };
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'platform-1' }).sign(privateKey);
    };
    const form = (extra) => new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE, scope: 'read:things', ...extra }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const kubernetesToken = await platformToken(cluster, 'system:serviceaccount:bench:worker');
    // Enough use-once tokens for the fastest run seen, minted before measuring.
    const onceCount = Math.ceil(6_000 * durationSeconds * (repetitions + 1));
    progress(`federation: minting ${onceCount} use-once platform tokens`);
    const onceBodies = [];
    for (let i = 0; i < onceCount; i += 1) {
      onceBodies.push(
        form({ client_assertion_type: ASSERTION_TYPE, client_assertion: await platformToken(ci, 'repo:bench/worker:ref:refs/heads/main', `j${i}`) }),
      );
    }
    let nextOnce = 0;

    const variants = [
      {
        name: 'client secret (HTTP Basic)',
        request: { headers: { ...headers, authorization: basic(client.client_id, client.client_secret) }, body: form({}) },
      },
      {
        name: 'federated, token reused (kubernetes)',
        request: { headers, body: form({ client_assertion_type: ASSERTION_TYPE, client_assertion: kubernetesToken }) },
      },
      {
        name: 'federated, use-once token (oidc, jti recorded)',
        request: {
          headers,
          setupRequest: (request) => ({ ...request, body: onceBodies[nextOnce++ % onceBodies.length] }),
        },
      },
    ];

    server = await startChildServer({
      command: process.execPath,
      args: ['--max-semi-space-size=4', m2mAuthBin, 'serve', '--port', String(port), '--issuer', issuer, '--data-dir', dataDir, '--workers', '1'],
      probeUrl: `${issuer}/healthz`,
    });
    const load = async (variant, seconds) => {
      const { setupRequest, ...request } = variant.request;
      const result = await autocannon({
        url: `${issuer}/oauth/token`,
        connections,
        duration: seconds,
        pipelining: 1,
        ...(setupRequest ? { requests: [{ method: 'POST', headers: request.headers, setupRequest }] } : { method: 'POST', ...request }),
      });
      return {
        requestsPerSecond: result.requests.total / seconds,
        total: result.requests.total,
        p99Ms: result.latency.p99,
        failed: result.non2xx + result.errors + result.timeouts,
      };
    };
    for (const variant of variants) {
      const check = await load(variant, 1);
      if (check.failed > 0) throw new Error(`federation bench: ${variant.name} answered ${check.failed} failures while warming up`);
    }
    const runs = new Map(variants.map((variant) => [variant.name, []]));
    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      for (const variant of variants) {
        const watch = watchProcessTree(server.pid);
        const run = await load(variant, durationSeconds);
        const usage = watch.stop();
        runs.get(variant.name).push({ ...run, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(run.total, 1) });
        progress(
          `federation run ${repetition}/${repetitions} ${variant.name}: ${formatNumber(run.requestsPerSecond)} tokens/s${run.failed ? `, ${run.failed} failed` : ''}`,
        );
      }
    }
    return [...runs].map(([name, variantRuns]) => ({
      name,
      connections,
      tokensPerSecond: summarize(variantRuns.map((r) => r.requestsPerSecond)),
      p99Ms: summarize(variantRuns.map((r) => r.p99Ms)),
      cpuMicrosPerToken: summarize(variantRuns.map((r) => r.cpuMicrosPerRequest)),
      failed: variantRuns.reduce((sum, r) => sum + r.failed, 0),
    }));
  } finally {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function federationTable(results) {
  const secret = results[0].tokensPerSecond.median;
  const lines = [
    `${results[0].connections} connections, SQLite, one worker, ES256 tokens and ES256 platform tokens`,
    '',
    '| client authentication | tokens/s median (min–max) | vs secret | p99 ms | CPU µs/token | failed |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const t = row.tokensPerSecond;
    lines.push(
      `| ${row.name} | ${formatNumber(t.median)} (${formatNumber(t.min)}–${formatNumber(t.max)}) | ${formatNumber((100 * t.median) / secret)}% | ` +
        `${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerToken.median)} | ${row.failed} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
