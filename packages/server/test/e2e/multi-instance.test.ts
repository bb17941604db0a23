import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createServer } from 'node:net';
import { cli, logLines, startServeProcess, waitForExit } from '../helpers/cli-process.js';
import { createSchemaNames, isPostgresAvailable, isRedisAvailable, POSTGRES_URL, REDIS_URL, deleteRedisKeys } from '../helpers/services.js';

/**
 * Three `m2m-auth serve` processes on loopback sharing one PostgreSQL (this run's own schema,
 * chosen with `options=-c search_path=…` in the URL) and one Redis (this run's own key prefix,
 * `?keyPrefix=` in the URL), with the same master key and issuer: what a deployment behind a load
 * balancer relies on. Both are dropped afterwards. Skipped without PostgreSQL and Redis unless
 * M2M_AUTH_REQUIRE_SERVICES=1.
 */
const isAvailable = (await isPostgresAvailable()) && (await isRedisAvailable());
const schemas = createSchemaNames('m2m_multi');
const schema = schemas.next();
const databaseUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
const redisPrefix = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const redisUrl = `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(redisPrefix)}`;
const ISSUER = 'http://127.0.0.1:8443';
const API = 'https://orders.example';
const ADMIN_API = 'urn:m2m-auth:admin';
// Ten per client per hour: a shared bucket lets ten through in all, per-instance ones thirty.
const RATE_LIMIT = '10/h';
const env = { M2M_AUTH_MASTER_KEY: randomBytes(32).toString('base64url') };
const dataDirs: string[] = [];

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
}
let a: Instance;
let b: Instance;
let c: Instance;
let adminAuth: string;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function startInstance(name: string): Promise<Instance> {
  const dataDir = mkdtempSync(join(tmpdir(), `m2m-auth-multi-${name}-`));
  dataDirs.push(dataDir);
  const args = [
    '--port',
    '0',
    '--issuer',
    ISSUER,
    '--data-dir',
    dataDir,
    '--database-url',
    databaseUrl,
    '--redis-url',
    redisUrl,
    '--rate-limit-client',
    RATE_LIMIT,
    '--log-level',
    'warn',
  ];
  const { url, child } = await startServeProcess(args, env);
  return { name, url, child };
}

/** A loopback port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function token(instance: Instance, authorization: string, audience = API) {
  const response = await fetch(`${instance.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function adminCall(instance: Instance, method: string, path: string, body?: unknown) {
  const response = await fetch(`${instance.url}/admin/v1${path}`, {
    method,
    headers: { authorization: adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (response.status === 204 ? {} : await response.json()) as Record<string, unknown> };
}

/** An admin token from `instance`; admin calls then go to whichever instance the test names. */
async function adminToken(instance: Instance, id: string, secret: string) {
  const answer = await token(instance, basic(id, secret), ADMIN_API);
  expect(answer.status).toBe(200);
  return `Bearer ${answer.body.access_token as string}`;
}

/** A client with a grant on the API, created through `instance`'s admin API. */
async function createClient(instance: Instance, name: string, extra: Record<string, unknown> = {}) {
  const created = await adminCall(instance, 'POST', '/clients', { name, ...extra });
  expect(created.status).toBe(201);
  const { client_id, client_secret } = created.body as { client_id: string; client_secret: string };
  expect((await adminCall(instance, 'POST', '/grants', { client_id, api: API, scopes: ['read:orders'] })).status).toBe(201);
  return { clientId: client_id, auth: basic(client_id, client_secret) };
}

describe.skipIf(!isAvailable)('three instances on one PostgreSQL and one Redis', () => {
  beforeAll(async () => {
    await schemas.create(schema);
    const setupDir = mkdtempSync(join(tmpdir(), 'm2m-auth-multi-setup-'));
    dataDirs.push(setupDir);
    const d = ['--data-dir', setupDir, '--database-url', databaseUrl];
    expect((await cli(['migrate', ...d], env)).code).toBe(0);
    const bootstrapped = await cli(['admin', 'bootstrap', ...d, '--json'], env);
    expect(bootstrapped.code).toBe(0);
    const { client_id, client_secret } = JSON.parse(bootstrapped.stdout) as { client_id: string; client_secret: string };
    [a, b, c] = await Promise.all([startInstance('a'), startInstance('b'), startInstance('c')]);
    adminAuth = await adminToken(b, client_id, client_secret);
    expect((await adminCall(a, 'POST', '/apis', { identifier: API, scopes: ['read:orders'] })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    for (const instance of [a, b, c]) {
      if (instance && instance.child.exitCode === null && instance.child.signalCode === null) {
        instance.child.kill('SIGTERM');
        await waitForExit(instance.child);
      }
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    if (!isAvailable) return;
    await schemas.dropAll();
    await deleteRedisKeys(redisPrefix);
  });

  it('a client created through A gets a token from B at once, and A’s JWKS verifies it', async () => {
    const client = await createClient(a, 'created-on-a');
    const issued = await token(b, client.auth);
    expect(issued.status).toBe(200);
    const { payload } = await jwtVerify(issued.body.access_token as string, createRemoteJWKSet(new URL(`${a.url}/.well-known/jwks.json`)), {
      issuer: ISSUER,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ client_id: client.clientId, scope: 'read:orders' });
  });

  it('a token revoked at A is inactive at C’s introspection on the next request', async () => {
    const client = await createClient(a, 'revoked-on-a');
    const resourceServer = await createClient(b, 'orders-api', { introspect_apis: [API] });
    const issued = (await token(b, client.auth)).body.access_token as string;
    const introspect = async () => {
      const response = await fetch(`${c.url}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: resourceServer.auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: issued }),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await introspect()).toMatchObject({ active: true, client_id: client.clientId });
    const revoked = await fetch(`${a.url}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: client.auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued }),
    });
    expect(revoked.status).toBe(200);
    // The revocation is in Redis before A answers, so no waiting: C's very next answer knows it.
    expect(await introspect()).toEqual({ active: false });
  });

  it('--rate-limit-client is one limit for all three instances', async () => {
    const client = await createClient(c, 'rate-limited');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await token([a, b, c][i % 3]!, client.auth)).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
    // The bucket lives under this run's prefix from the URL, nowhere else.
    const redis = new Redis(REDIS_URL);
    const [, keys] = await redis.scan('0', 'MATCH', `${redisPrefix}*bucket:rc:${client.clientId}`, 'COUNT', 100_000);
    redis.disconnect();
    expect(keys).toHaveLength(1);
  });

  it('an instance whose Redis does not answer starts and issues tokens, refuses introspection with 503, and says so once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-multi-d-'));
    dataDirs.push(dataDir);
    const args = [
      '--port',
      '0',
      '--issuer',
      ISSUER,
      '--data-dir',
      dataDir,
      '--database-url',
      databaseUrl,
      '--redis-url',
      `redis://127.0.0.1:${await closedPort()}`,
      '--log-level',
      'warn',
    ];
    const { url, child, stdout } = await startServeProcess(args, env);
    const d: Instance = { name: 'd', url, child };
    try {
      const client = await createClient(a, 'served-without-redis');
      const resourceServer = await createClient(a, 'orders-api-2', { introspect_apis: [API] });
      const issued = await token(d, client.auth);
      expect(issued.status).toBe(200);
      const introspected = await fetch(`${d.url}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: resourceServer.auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: issued.body.access_token as string }),
      });
      expect(introspected.status).toBe(503);
      expect(((await introspected.json()) as { error: string }).error).toBe('temporarily_unavailable');
      expect((await token(d, client.auth)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await waitForExit(child);
    }
    expect(logLines(stdout()).filter((line) => line.event === 'shared_state.unavailable')).toHaveLength(1);
  });

  it('SIGKILL of one instance under load: the others keep answering and no committed write is lost', async () => {
    const clients: { clientId: string; auth: string }[] = [];
    for (let i = 0; i < 9; i++) clients.push(await createClient([a, b, c][i % 3]!, `load-${i}`));

    // Token requests round-robin over the three instances and the clients (six each at most:
    // within the rate limit), while C also takes admin writes until it dies.
    const answers: { instance: string; status: number | 'error'; beforeKill: boolean }[] = [];
    const acknowledged: string[] = [];
    let isKilled = false;
    let sent = 0;
    const loader = async () => {
      while (sent < 54) {
        const n = sent++;
        const instance = [a, b, c][n % 3]!;
        const beforeKill = !isKilled;
        const status = await token(instance, clients[Math.floor(n / 3) % clients.length]!.auth).then(
          (answer) => answer.status,
          () => 'error' as const,
        );
        answers.push({ instance: instance.name, status, beforeKill });
      }
    };
    const writer = async () => {
      for (let i = 0; !isKilled; i++) {
        const created = await adminCall(c, 'POST', '/clients', { name: `written-on-c-${i}` }).catch(() => undefined);
        if (created?.status === 201) acknowledged.push(created.body.client_id as string);
      }
    };
    const load = Promise.all([loader(), loader(), loader(), writer()]);
    while (answers.length < 15 || acknowledged.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    c.child.kill('SIGKILL');
    isKilled = true;
    await load;
    await waitForExit(c.child);

    const survivors = answers.filter((answer) => answer.instance !== 'c');
    expect(survivors.length).toBe(36);
    expect(survivors.every((answer) => answer.status === 200)).toBe(true);
    // C answered 200 until it died; after that only connection errors, never a wrong answer.
    expect(answers.filter((answer) => answer.instance === 'c').every((answer) => answer.status === 200 || answer.status === 'error')).toBe(true);
    expect(answers.some((answer) => answer.instance === 'c' && answer.beforeKill && answer.status === 200)).toBe(true);

    // Every write C acknowledged is there, and every client created before works on the survivors.
    expect(acknowledged.length).toBeGreaterThanOrEqual(3);
    for (const clientId of acknowledged) expect((await adminCall(a, 'GET', `/clients/${clientId}`)).status).toBe(200);
    for (const [i, client] of clients.entries()) expect((await token([a, b][i % 2]!, client.auth)).status).toBe(200);
    const listed = (await adminCall(b, 'GET', '/grants?limit=100')).body.items as { client_id: string }[];
    for (const client of clients) expect(listed.some((grant) => grant.client_id === client.clientId)).toBe(true);
  }, 90_000);
});
