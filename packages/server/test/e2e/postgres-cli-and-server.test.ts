import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { cli, cliJson, startServeProcess } from '../helpers/cli-process.js';
import { createSchemaNames, deleteRedisKeys, isPostgresAvailable, isRedisAvailable, POSTGRES_URL, REDIS_URL } from '../helpers/services.js';
import { Redis } from 'ioredis';
import { POSTGRES_SCHEMA_VERSION } from '../../src/storage/postgres/postgres-migrations.js';

/**
 * The PostgreSQL path with real processes: `migrate`, the CLI and `serve` all find the database
 * from one URL; the master key stays in the data directory.
 */
const isAvailable = await isPostgresAvailable();
const isRedis = await isRedisAvailable();
const schemas = createSchemaNames('m2m_e2e');
const schema = schemas.next();
const databaseUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
// This run's own Redis namespace, deleted afterwards.
const redisPrefix = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-e2e-pg-'));
const d = ['--data-dir', dataDir, '--database-url', databaseUrl];
let server: { url: string; child: ChildProcess; stderr: () => string } | undefined;

describe.skipIf(!isAvailable)('CLI + server on PostgreSQL', () => {
  beforeAll(async () => {
    await schemas.create(schema);
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    await schemas.dropAll();
    if (isRedis) await deleteRedisKeys(redisPrefix);
  });

  it('a management command refuses the database before it is set up, and changes nothing', async () => {
    const refused = await cli(['apis', 'list', ...d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds no m2m-auth schema');
    expect(refused.stderr).toContain(`m2m-auth init --database-url '${databaseUrl}' --data-dir ${dataDir}`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect((await cliJson(['migrate', ...d])).from_version).toBe(0);
  });

  it('migrate applies the schema once, then finds nothing to do; init then makes only the master key', async () => {
    const again = await cli(['migrate', ...d]);
    expect(again.stdout).toContain(`schema already at version ${POSTGRES_SCHEMA_VERSION}`);
    expect(again.stderr).toContain(`store: postgres ${databaseUrl.replace('postgres://postgres@', 'postgres://')}`);
    const noKey = await cli(['apis', 'list', ...d]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain(`no master key: ${dataDir}/master.key does not exist and M2M_AUTH_MASTER_KEY is not set`);
    const init = await cliJson<{ created: Record<string, unknown> }>(['init', ...d]);
    expect(init.created).toEqual({ data_dir: false, database: false, master_key: true, signing_keys: [expect.any(String)] });
  });

  it('the CLI writes and the server reads the same database; /readyz names it', async () => {
    await cliJson(['apis', 'create', '--identifier', 'https://orders.example', '--scopes', 'read:orders', ...d]);
    const client = await cliJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'billing', ...d]);
    await cliJson(['grants', 'create', '--client', client.client_id, '--api', 'https://orders.example', '--scopes', 'read:orders', ...d]);
    // With Redis, the shared security state (failure counters, replay, revocations) lives there.
    // The URL with a password (trust authentication ignores it): the banner must not show it.
    const withPassword = databaseUrl.replace('postgres://postgres@', 'postgres://postgres:banner-secret@');
    server = await startServeProcess([
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--database-url',
      withPassword,
      '--log-level',
      'warn',
      ...(isRedis ? ['--redis-url', `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(redisPrefix)}`] : []),
    ]);
    // The next steps send the CLI to this database, not to a new SQLite file in the data directory.
    expect(server.stderr()).toContain(`npx m2m-auth clients create --name billing-service --database-url '${databaseUrl}' --data-dir ${dataDir}`);
    expect(server.stderr()).toContain('the database password is left out');
    expect(server.stderr()).not.toContain('banner-secret');
    const ready = await fetch(`${server.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', storage: 'postgres' });
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: 'https://orders.example' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ token_type: 'Bearer', scope: 'read:orders' });
    if (!isRedis) return;
    const refused = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:m2msk_wrong`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: 'https://orders.example' }),
    });
    expect(refused.status).toBe(401);
    const redis = new Redis(REDIS_URL);
    const [, counters] = await redis.scan('0', 'MATCH', `${redisPrefix}m2m-auth:state:attempts:*`, 'COUNT', 100_000);
    redis.disconnect();
    expect(counters.length).toBeGreaterThan(0);
  });
});
