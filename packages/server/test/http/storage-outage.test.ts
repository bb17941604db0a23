import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { logLines } from '../helpers/cli-process.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';

/**
 * The server's answers while its PostgreSQL is away (a TCP proxy the test stops in front of the
 * real database; found by the attack probe as 500s): a request that needs the database answers
 * 503 with Retry-After — `temporarily_unavailable` at the token endpoint, problem details on the
 * admin API — with nothing about the database in the body, and all resumes when it is back.
 */
const isAvailable = await isPostgresAvailable();
const schemas = createSchemaNames('m2m_outage');
afterAll(() => schemas.dropAll());
const PAYMENTS = 'https://payments.example';

describe.skipIf(!isAvailable)('PostgreSQL away', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let caller: { clientId: string; clientSecret: string };
  let admin: Record<string, string>;

  beforeEach(async () => {
    const target = new URL(POSTGRES_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const storage = await createPostgresStorage({ connectionString: viaProxy.toString(), schema: schemas.next(), poolSize: 2, connectTimeoutMs: 2_000 });
    t = await createTestApp({ storage });
    caller = await seedExampleSystem(t.runtime);
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
    admin = { authorization: `Bearer ${token.body.access_token as string}` };
  });
  afterEach(async () => {
    await proxy.start().catch(() => undefined);
    await t.close();
    await proxy.close();
  });

  const adminCall = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url: `/admin/v1${url}`, headers: admin, ...(payload ? { payload } : {}) });
  const expectNothingInternal = (body: string) => expect(body).not.toMatch(/ECONN|127\.0\.0\.1|postgres|terminated|timeout/i);

  it('token endpoint: an uncached client id answers 503 temporarily_unavailable with Retry-After', async () => {
    await proxy.stop();
    const answer = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic('never-seen-client', 'secret'));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The server cannot reach its database right now; retry shortly.' });
    expectNothingInternal(JSON.stringify(answer.body));
    // A warning, not a stack trace per request.
    expect(logLines(t.logs()).filter((line) => line.event === 'token.storage_unavailable')).toHaveLength(1);
    expect(logLines(t.logs()).filter((line) => line.event === 'token.failed')).toEqual([]);
    // What the database-errors alert (deploy/prometheus) watches.
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^m2m_auth_storage_errors_total\{source="request"\} 1$/m);

    await proxy.start();
    const back = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(caller.clientId, caller.clientSecret));
    expect(back.status).toBe(200);
  });

  it('admin API: reads and writes answer 503 problem details with Retry-After; nothing was half-written', async () => {
    await proxy.stop();
    for (const [method, url, payload] of [
      ['GET', '/clients', undefined],
      ['GET', '/clients/never-seen-client', undefined],
      ['POST', '/clients', { name: 'made-during-outage' }],
    ] as const) {
      const answer = await adminCall(method, url, payload);
      expect(answer.statusCode, `${method} ${url}`).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.json()).toEqual({
        type: 'urn:m2m-auth:problem:service-unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: 'The server cannot reach its database right now; retry shortly.',
      });
      expectNothingInternal(answer.body);
    }

    await proxy.start();
    const list = await adminCall('GET', '/clients');
    expect(list.statusCode).toBe(200);
    expect((list.json() as { items: { name: string }[] }).items.map((client) => client.name)).not.toContain('made-during-outage');
  });
});
