import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber } from '../lib/stats.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const m2mAuthBin = join(repoRoot, 'packages/server/bin/m2m-auth.js');
const AUDIENCE = 'https://api.bench.example';
export const POSTGRES_URL = process.env.M2M_AUTH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The active-client curve: tokens/s as the number of distinct clients asking grows (10, 10,000,
 * 100,000), on SQLite and PostgreSQL. Every request names the next client in turn, so with N
 * clients each one comes back only every N requests: the registry cache has to hold them all, and
 * a cold client costs database reads. Each run first sends one request per client, then 2 s more
 * (warm-up), then measures; the server's own gauge says how many records were cached.
 */
export async function runActiveClientsSuite({ clientCounts, databases, alg, connections, durationSeconds, progress }) {
  const results = [];
  for (const database of databases) {
    for (const clients of clientCounts) {
      progress(`active clients: ${database}, seeding ${formatNumber(clients)} clients`);
      const target = await startTarget({ database, clients, alg });
      try {
        // One request per client fills the cache; a short timed run then warms the JIT as well.
        const warmup = await load(target, { connections: Math.min(connections, clients), maxRequests: clients });
        await load(target, { connections, durationSeconds: 2 });
        const watch = watchProcessTree(target.pid);
        const measured = await load(target, { connections, durationSeconds });
        const usage = watch.stop();
        const cached = await cachedEntries(target.url);
        const row = {
          database,
          clients,
          warmupRequests: warmup.total,
          tokensPerSecond: measured.requestsPerSecond,
          p50Ms: measured.p50Ms,
          p99Ms: measured.p99Ms,
          cpuMicrosPerToken: (usage.cpuSeconds * 1e6) / Math.max(measured.total, 1),
          peakRssMiB: usage.peakRssBytes / 2 ** 20,
          cachedEntries: cached,
          failed: measured.failed + warmup.failed,
        };
        results.push(row);
        progress(
          `active clients: ${database} ${formatNumber(clients)}: ${formatNumber(row.tokensPerSecond)} tokens/s, p99 ${row.p99Ms} ms, ${formatNumber(cached)} cached entries`,
        );
      } finally {
        await target.stop();
      }
    }
  }
  return results;
}

export function activeClientsTable(results) {
  const lines = [
    '| database | active clients | tokens/s | p50 ms | p99 ms | CPU µs/token | peak RSS MiB | cached records | warm-up requests | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    lines.push(
      `| ${row.database} | ${formatNumber(row.clients)} | ${formatNumber(row.tokensPerSecond)} | ${formatNumber(row.p50Ms, 1)} | ${formatNumber(row.p99Ms, 1)} | ` +
        `${formatNumber(row.cpuMicrosPerToken)} | ${formatNumber(row.peakRssMiB)} | ${formatNumber(row.cachedEntries)} | ${formatNumber(row.warmupRequests)} | ${row.failed} |`,
    );
  }
  return lines.join('\n');
}

/** The CLI sets up the API, keys and one real client; SQL copies that client (same secret) N−1 times. */
/** `postgres+redis` is PostgreSQL with the shared security state in Redis: the several-instance setup. */
export const REDIS_URL = process.env.M2M_AUTH_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function startTarget({ database: choice, clients, alg, instances = 1 }) {
  const database = choice.startsWith('postgres') ? 'postgres' : 'sqlite';
  const redisArgs = choice === 'postgres+redis' ? ['--redis-url', REDIS_URL] : [];
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-clients-'));
  const schema = `bench_${process.pid}_${Date.now()}`;
  const databaseUrl =
    database === 'postgres' ? `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` : `sqlite:${join(dataDir, 'm2m-auth.db')}`;
  let admin;
  if (database === 'postgres') {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
  }
  const cleanup = async () => {
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const cli = (...args) =>
      JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--database-url', databaseUrl, '--json'], { encoding: 'utf8' }));
    cli('init');
    cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', alg, '--token-ttl', '900');
    const first = cli('clients', 'create', '--name', 'bench-client');
    cli('grants', 'create', '--client', first.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
    await copyClient(database, { dataDir, admin, schema, clientId: first.client_id, copies: clients - 1 });
    const servers = [];
    try {
      for (let i = 0; i < instances; i += 1) {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const server = await startChildServer({
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
            ...redisArgs,
            '--metrics',
            '--log-level',
            'warn',
          ],
          probeUrl: `${url}/healthz`,
        });
        servers.push({ ...server, url });
      }
    } catch (error) {
      for (const server of servers) await server.stop();
      throw error;
    }
    const ids = [first.client_id, ...Array.from({ length: clients - 1 }, (_, i) => `bench-${i + 1}`)];
    return {
      ...servers[0],
      url: servers[0].url,
      urls: servers.map((server) => server.url),
      pids: servers.map((server) => server.pid),
      ids,
      secret: first.client_secret,
      stop: async () => {
        for (const server of servers) await server.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function copyClient(database, { dataDir, admin, schema, clientId, copies }) {
  if (copies <= 0) return;
  const statements = (series) => [
    `INSERT INTO clients (client_id, name, description, default_api, is_enabled, grant_types, token_endpoint_auth_methods, jwks, created_at, updated_at)
     SELECT 'bench-' || i, name, description, default_api, is_enabled, grant_types, token_endpoint_auth_methods, jwks, created_at, updated_at FROM clients, ${series} WHERE client_id = $id`,
    `INSERT INTO client_secrets (id, client_id, hash, hint, created_at, expires_at)
     SELECT 'sec-bench-' || i, 'bench-' || i, hash, hint, created_at, expires_at FROM client_secrets, ${series} WHERE client_id = $id`,
    `INSERT INTO client_grants (id, client_id, api_identifier, scopes, token_ttl_seconds, created_at, updated_at)
     SELECT 'grt-bench-' || i, 'bench-' || i, api_identifier, scopes, token_ttl_seconds, created_at, updated_at FROM client_grants, ${series} WHERE client_id = $id`,
  ];
  if (database === 'postgres') {
    await admin.query(`SET search_path = "${schema}"`);
    for (const sql of statements(`generate_series(1, ${copies}) AS i`)) await admin.query(sql.replaceAll('$id', '$1'), [clientId]);
    return;
  }
  const db = new Database(join(dataDir, 'm2m-auth.db'));
  try {
    db.transaction(() => {
      for (const sql of statements('seq'))
        db.prepare(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${copies}) ${sql.replaceAll('$id', '@id')}`).run({
          id: clientId,
        });
    })();
  } finally {
    db.close();
  }
}

/**
 * Several identical instances on one PostgreSQL schema and one Redis (the scale-out topology, no
 * load balancer: each instance gets an equal share of the connections from its own load generator,
 * all running at once) against one instance with all the connections.
 */
export async function runInstancesSuite({ instanceCounts, database = 'postgres+redis', alg, connections, durationSeconds, progress }) {
  const results = [];
  for (const instances of instanceCounts) {
    progress(`instances: starting ${instances} on ${database}`);
    const target = await startTarget({ database, clients: 10, alg, instances });
    try {
      const share = (url, count) => load({ ...target, url }, { connections: count, durationSeconds });
      const perInstance = Math.max(1, Math.floor(connections / instances));
      await Promise.all(target.urls.map((url) => share(url, perInstance))); // warm-up
      const watches = target.pids.map((pid) => watchProcessTree(pid));
      const runs = await Promise.all(target.urls.map((url) => share(url, perInstance)));
      const cpuSeconds = watches.map((watch) => watch.stop()).reduce((sum, usage) => sum + usage.cpuSeconds, 0);
      const total = runs.reduce((sum, run) => sum + run.total, 0);
      const row = {
        database,
        instances,
        tokensPerSecond: runs.reduce((sum, run) => sum + run.requestsPerSecond, 0),
        p99Ms: Math.max(...runs.map((run) => run.p99Ms)),
        cpuMicrosPerToken: (cpuSeconds * 1e6) / Math.max(total, 1),
        failed: runs.reduce((sum, run) => sum + run.failed, 0),
      };
      progress(`instances: ${instances}: ${formatNumber(row.tokensPerSecond)} tokens/s, p99 ${row.p99Ms} ms`);
      results.push(row);
    } finally {
      await target.stop();
    }
  }
  return results;
}

export function instancesTable(results) {
  const base = results.find((row) => row.instances === 1);
  return [
    '| database | instances | tokens/s | vs one instance | p99 ms | CPU µs/token | failed |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (row) =>
        `| ${row.database} | ${row.instances} | ${formatNumber(row.tokensPerSecond)} | ${base ? `${(row.tokensPerSecond / base.tokensPerSecond).toFixed(2)}×` : '-'} | ${row.p99Ms} | ${formatNumber(row.cpuMicrosPerToken)} | ${row.failed} |`,
    ),
  ].join('\n');
}

/** Round-robin over the clients: request k names client k mod N. */
/** With `maxRequests`, exactly that many requests (autocannon then ignores any duration). */
async function load(target, { connections, durationSeconds, maxRequests }) {
  let next = 0;
  const basic = (id) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(target.secret)}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE, scope: 'read:things' }).toString();
  const result = await autocannon({
    url: `${target.url}/oauth/token`,
    connections,
    ...(maxRequests ? { amount: maxRequests } : { duration: durationSeconds }),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const id = target.ids[next++ % target.ids.length];
          return { ...request, body, headers: { ...request.headers, authorization: basic(id), 'content-type': 'application/x-www-form-urlencoded' } };
        },
      },
    ],
  });
  const elapsed = result.duration;
  return {
    total: result.requests.total,
    requestsPerSecond: result.requests.total / elapsed,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

async function cachedEntries(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /m2m_auth_registry_cache_entries\{kind="positive"\} (\d+)/.exec(text);
  return match ? Number(match[1]) : NaN;
}
