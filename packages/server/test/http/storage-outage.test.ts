import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { basic, createTestApp, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually } from '../storage/conformance/fixtures.js';

/**
 * PostgreSQL away (a TCP proxy the test stops in front of the real one), as an operator sees it
 * when the database fails over: what needs the database answers 503 with Retry-After — a token
 * request from a client id the registry has not cached, the admin API — never a 500 with a stack
 * in the log; all resumes when it is back. SQLite is a file in the process and cannot be away; its
 * faults are test/e2e/data-dir-faults.test.ts.
 */
const isAvailable = await isPostgresAvailable();
const postgres = new URL(POSTGRES_URL);
const PAYMENTS = 'https://payments.example';
const schemas = createSchemaNames('m2m_outage');

let t: TestApp;
let proxy: TcpProxy;

describe.skipIf(!isAvailable)('PostgreSQL away: 503 with Retry-After, never a 500', () => {
  beforeEach(async () => {
    proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    const schema = schemas.next();
    await schemas.create(schema);
    const proxied = new URL(POSTGRES_URL);
    proxied.host = `127.0.0.1:${proxy.port}`;
    proxied.searchParams.set('options', `-c search_path=${schema}`);
    t = await createTestApp({
      stack: {
        open: async (now) => {
          const storage = await openStorage({ url: proxied.toString(), poolSize: 2, connectTimeoutMs: 1000 });
          const state = createMemoryState({ now });
          return { storage, state, close: async () => (await state.close(), await storage.close()) };
        },
      },
    });
  });
  afterEach(async () => {
    await proxy.start().catch(() => undefined);
    await t.close();
    await proxy.close();
    await schemas.dropAll();
  });

  it('the token endpoint (uncached client id) and the admin API answer 503 with Retry-After while it is away, and resume', async () => {
    const caller = await seedExampleSystem(t.runtime);
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const adminToken = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
    expect(adminToken.status).toBe(200);
    const admin = { authorization: `Bearer ${adminToken.body.access_token as string}` };
    const listClients = () => t.app.inject({ method: 'GET', url: '/admin/v1/clients', headers: admin });
    // A new id each time: an id looked up once may be remembered as unknown.
    const unknownClient = () => postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(randomBytes(12).toString('hex'), 'm2msk_guess'));
    expect((await unknownClient()).status).toBe(401);

    await proxy.stop();
    const token = await unknownClient();
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toMatch(/^\d+$/);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });

    const listed = await listClients();
    expect(listed.statusCode).toBe(503);
    expect(listed.headers['retry-after']).toMatch(/^\d+$/);
    expect(listed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(listed.json()).toMatchObject({ status: 503 });

    // A client the registry holds may still get tokens; whatever it gets, never a 500.
    expect((await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(caller.clientId, caller.clientSecret))).status).not.toBe(500);
    expect(t.logs()).not.toContain(caller.clientSecret);

    await proxy.start();
    await eventually(async () => (await listClients()).statusCode === 200, 'the admin API to answer again');
    expect((await unknownClient()).status).toBe(401);
  });
});
