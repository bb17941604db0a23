import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';
import { POSTGRES_URL, REDIS_URL } from '../active-clients/suite.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const JWT_API = 'https://jwt.bench.example';
const OPAQUE_API = 'https://opaque.bench.example';
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * What an opaque token costs against a JWT, on one server (one worker): the same client and grant,
 * the same client_credentials request, for an API with `token_format: jwt` (ES256, signed and
 * forgotten) and one with `token_format: opaque` (a random handle, and one write of its sealed
 * claims to the shared state). Interleaved runs, on SQLite (the state file) and on PostgreSQL with
 * Redis (the state in Redis, over loopback). After the runs, what the shared state holds per token.
 */
export async function runOpaqueTokensSuite({ databases, connections, repetitions, durationSeconds, progress }) {
  const results = [];
  for (const database of databases) {
    progress(`opaque tokens: starting a server on ${database}`);
    const target = await startTarget(database);
    try {
      const variants = [
        { name: 'JWT (ES256)', audience: JWT_API },
        { name: 'opaque (one state write)', audience: OPAQUE_API },
      ];
      // A server answers 503 until its keys are loaded; the warm-up starts once one token comes back.
      await target.firstToken();
      for (const variant of variants) {
        const check = await load(target, variant.audience, connections, 1);
        if (check.failed > 0) throw new Error(`opaque bench: ${variant.name} on ${database} answered ${check.failed} failures while warming up`);
      }
      const runs = new Map(variants.map((variant) => [variant.name, []]));
      for (let repetition = 1; repetition <= repetitions; repetition += 1) {
        for (const variant of variants) {
          const watch = watchProcessTree(target.pid);
          const run = await load(target, variant.audience, connections, durationSeconds);
          const usage = watch.stop();
          runs.get(variant.name).push({ ...run, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(run.total, 1) });
          progress(
            `opaque tokens: ${database} run ${repetition}/${repetitions} ${variant.name}: ${formatNumber(run.requestsPerSecond)} tokens/s${run.failed ? `, ${run.failed} failed` : ''}`,
          );
        }
      }
      const stored = await target.storedPerToken();
      for (const [name, variantRuns] of runs) {
        results.push({
          database,
          name,
          connections,
          tokensPerSecond: summarize(variantRuns.map((r) => r.requestsPerSecond)),
          p99Ms: summarize(variantRuns.map((r) => r.p99Ms)),
          cpuMicrosPerToken: summarize(variantRuns.map((r) => r.cpuMicrosPerRequest)),
          failed: variantRuns.reduce((sum, r) => sum + r.failed, 0),
          stored: name.startsWith('opaque') ? stored : undefined,
        });
      }
    } finally {
      await target.stop();
    }
  }
  return results;
}

export function opaqueTokensTable(results) {
  const lines = [
    `${results[0].connections} connections, one worker, one client; opaque tokens live 900 s in the shared state`,
    '',
    '| database | token format | tokens/s median (min–max) | vs JWT | p99 ms | CPU µs/token | kept per live token | failed |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const jwt = results.find((other) => other.database === row.database && other.name.startsWith('JWT'));
    const t = row.tokensPerSecond;
    const kept = row.stored ? `${formatNumber(row.stored.bytesPerToken)} B (${formatNumber(row.stored.tokens)} tokens)` : '—';
    lines.push(
      `| ${row.database} | ${row.name} | ${formatNumber(t.median)} (${formatNumber(t.min)}–${formatNumber(t.max)}) | ${formatNumber((100 * t.median) / jwt.tokensPerSecond.median)}% | ` +
        `${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerToken.median)} | ${kept} | ${row.failed} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function load(target, audience, connections, seconds) {
  const result = await autocannon({
    url: `${target.url}/oauth/token`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: target.authorization },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }).toString(),
  });
  return {
    requestsPerSecond: result.requests.total / seconds,
    total: result.requests.total,
    p99Ms: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** One `serve` process (one worker) on SQLite or on PostgreSQL + Redis, with a client granted both APIs. */
async function startTarget(database) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-opaque-'));
  const isPostgres = database === 'postgres+redis';
  const schema = `bench_opaque_${process.pid}_${Date.now()}`;
  const keyPrefix = `m2m-auth-bench:${process.pid}:${Date.now()}:`;
  const databaseUrl = isPostgres ? `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` : `sqlite:${join(dataDir, 'm2m-auth.db')}`;
  const redisUrl = `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(keyPrefix)}`;
  let admin;
  let server;
  const cleanup = async () => {
    await server?.stop();
    if (isPostgres) {
      await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin?.end();
      await deleteKeys(keyPrefix);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (isPostgres) {
      admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA "${schema}"`);
    }
    const cli = (...args) =>
      JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--database-url', databaseUrl, '--json'], { encoding: 'utf8' }));
    cli('apis', 'create', '--identifier', JWT_API, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '900');
    cli('apis', 'create', '--identifier', OPAQUE_API, '--scopes', 'read:things', '--token-format', 'opaque', '--token-ttl', '900');
    const client = cli('clients', 'create', '--name', 'bench-client');
    for (const api of [JWT_API, OPAQUE_API]) cli('grants', 'create', '--client', client.client_id, '--api', api, '--scopes', 'read:things');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = await startChildServer({
      command: process.execPath,
      args: [
        '--max-semi-space-size=4',
        m2mAuthBin,
        'serve',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--database-url',
        databaseUrl,
        ...(isPostgres ? ['--redis-url', redisUrl] : []),
        '--workers',
        '1',
        // One client asks for every token: its allowance of live opaque tokens must not be what stops it.
        '--state-opaque-tokens-per-client',
        '100000000',
        '--log-level',
        'warn',
      ],
      probeUrl: `${url}/healthz`,
    });
    const authorization = basic(client.client_id, client.client_secret);
    return {
      url,
      pid: server.pid,
      authorization,
      async firstToken() {
        for (let attempt = 0; attempt < 100; attempt += 1) {
          const response = await fetch(`${url}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
            body: new URLSearchParams({ grant_type: 'client_credentials', audience: OPAQUE_API }),
          });
          if (response.ok) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`opaque bench: no token from ${url} after 20 s`);
      },
      storedPerToken: () => (isPostgres ? storedInRedis(keyPrefix) : storedInStateFile(join(dataDir, 'state.db'))),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The pages the opaque-token table and its indexes take in the state file (WAL included), over the live tokens in it. */
function storedInStateFile(path) {
  const db = new Database(path, { readonly: true });
  try {
    const tokens = db.prepare('SELECT count(*) FROM opaque_tokens').pluck().get();
    const bytes = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name = 'opaque_tokens' OR name LIKE 'opaque_tokens_by_%'").pluck().get();
    return { tokens, bytesPerToken: bytes / Math.max(tokens, 1) };
  } finally {
    db.close();
  }
}

/** Redis's own accounting (MEMORY USAGE) of a sample of token keys, plus each token's share of the index and its owner's set. */
async function storedInRedis(keyPrefix) {
  const redis = new Redis(REDIS_URL);
  try {
    // The URL's keyPrefix (ioredis) goes before the state's own namespace.
    const index = `${keyPrefix}m2m-auth:state:index:opaque`;
    const tokens = await redis.zcard(index);
    const sample = await redis.zrange(index, 0, 199);
    let valueBytes = 0;
    for (const key of sample) valueBytes += (await redis.memory('USAGE', key)) ?? 0;
    const [owner] = await scanKeys(redis, `${keyPrefix}m2m-auth:state:owner:opaque:*`);
    const setBytes = ((await redis.memory('USAGE', index)) ?? 0) + (owner ? ((await redis.memory('USAGE', owner)) ?? 0) : 0);
    return { tokens, bytesPerToken: valueBytes / Math.max(sample.length, 1) + setBytes / Math.max(tokens, 1) };
  } finally {
    redis.disconnect();
  }
}

async function scanKeys(redis, pattern) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function deleteKeys(keyPrefix) {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await scanKeys(redis, `${keyPrefix}*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  } finally {
    redis.disconnect();
  }
}
