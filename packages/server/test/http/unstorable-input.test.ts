import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { basic, createTestApp, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';
import { logLines } from '../helpers/cli-process.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { Storage } from '../../src/storage/types.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { encodeCursor } from '../../src/admin/paging.js';

/**
 * Input that no store can hold (found by the attack probe): a NUL byte in a client id, an audience,
 * an admin path id, a cursor or any admin JSON string made PostgreSQL fail the statement — a 500
 * with a stack trace logged, unauthenticated — while SQLite answered 401/400. Each is refused as
 * the client's mistake before any query, alike on both adapters, and nothing is logged as an error.
 */
const isPostgres = await isPostgresAvailable();
const schemas = createSchemaNames('m2m_nul');
afterAll(() => schemas.dropAll());

const stacks: [string, boolean, () => Promise<Storage>][] = [
  ['SQLite', true, () => openStorage({ url: 'sqlite::memory:' })],
  ['PostgreSQL', isPostgres, () => createPostgresStorage({ connectionString: POSTGRES_URL, schema: schemas.next(), poolSize: 2 })],
];
const PAYMENTS = 'https://payments.example';
const NUL = '\u0000';

describe.each(stacks)('a NUL byte on %s', (_name, isAvailable, makeStorage) => {
  let t: TestApp;
  let caller: { clientId: string; clientSecret: string };
  let admin: Record<string, string>;
  beforeEach(async (context) => {
    if (!isAvailable) return context.skip();
    t = await createTestApp({ storage: await makeStorage() });
    caller = await seedExampleSystem(t.runtime);
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
    admin = { authorization: `Bearer ${token.body.access_token as string}` };
  });
  afterEach(async () => {
    if (!t) return;
    // No 500, no stack trace: a client's mistake is not the server's error.
    expect(logLines(t.logs()).filter((line) => (line.level as number) >= 50)).toEqual([]);
    await t.close();
  });

  const expectInvalidClient = (answer: { status: number; headers: Record<string, unknown>; body: unknown }) => {
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Basic realm="m2m-auth", charset="UTF-8"');
    expect(answer.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
  };

  it('token endpoint: client_id with %00 in the body or in Basic credentials is invalid_client (401)', async () => {
    const grant = { grant_type: 'client_credentials', audience: PAYMENTS };
    expectInvalidClient(await postToken(t.app, { ...grant, client_id: `x${NUL}`, client_secret: 's' }));
    expectInvalidClient(await postToken(t.app, grant, basic(`${caller.clientId}${NUL}`, caller.clientSecret)));
    // private_key_jwt names the client in the assertion: the same refusal before any lookup.
    const { privateKey } = await generateKeyPair('ES256');
    const assertion = await new SignJWT({ jti: 'j1' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(`x${NUL}`)
      .setSubject(`x${NUL}`)
      .setAudience(ISSUER)
      .setExpirationTime('1m')
      .sign(privateKey);
    expectInvalidClient(
      await postToken(t.app, { ...grant, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    );
  });

  it('token endpoint: an audience, resource or scope with %00 is invalid_request (400)', async () => {
    for (const name of ['audience', 'resource', 'scope']) {
      const answer = await postToken(
        t.app,
        { grant_type: 'client_credentials', audience: PAYMENTS, [name]: `${PAYMENTS}${NUL}` },
        basic(caller.clientId, caller.clientSecret),
      );
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_request', error_description: `The ${name} parameter must not contain the NUL character (U+0000).` });
    }
  });

  it('introspection and revocation: %00 in the caller’s id is invalid_client, in the token invalid_request', async () => {
    for (const url of ['/oauth/introspect', '/oauth/revoke']) {
      expectInvalidClient(await postToken(t.app, { token: 'x' }, basic(`a${NUL}`, 's'), { url }));
      const answer = await postToken(t.app, { token: `a${NUL}` }, basic(caller.clientId, caller.clientSecret), { url });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request' });
    }
  });

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
    const response = await t.app.inject({ method, url: `/admin/v1${url}`, headers: admin, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: response.statusCode, type: response.headers['content-type'], body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const expectRefused = (answer: Awaited<ReturnType<typeof call>>, field: string) => {
    expect(answer.status).toBe(400);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({
      type: 'urn:m2m-auth:problem:validation-failed',
      errors: [{ field, message: `${field} must not contain the NUL character (U+0000)` }],
    });
  };

  it('admin API: a path id, a query value or a cursor with NUL is a 400 validation-failed', async () => {
    expectRefused(await call('GET', '/clients/a%00b'), 'client_id');
    expectRefused(await call('DELETE', '/clients/a%00b'), 'client_id');
    expectRefused(await call('GET', `/apis/${encodeURIComponent(`${PAYMENTS}${NUL}`)}`), 'identifier');
    expectRefused(await call('PATCH', '/grants/g%00', { scopes: [] }), 'id');
    expectRefused(await call('GET', '/keys/k%00'), 'kid');
    expectRefused(await call('GET', '/grants?client_id=a%00'), 'client_id');
    expectRefused(await call('GET', '/clients?cursor=%00'), 'cursor');
    // A well-formed cursor whose position holds a NUL: not one this server returned.
    const cursor = await call('GET', `/clients?cursor=${encodeCursor([0, `a${NUL}`])}`);
    expect(cursor.status).toBe(400);
    expect(cursor.body).toMatchObject({ type: 'urn:m2m-auth:problem:validation-failed', errors: [{ field: 'cursor' }] });
  });

  it('admin API: any JSON string with \\u0000, however deep, is a 400 validation-failed and changes nothing', async () => {
    const before = (await call('GET', '/clients')).body.items as unknown[];
    expectRefused(await call('POST', '/clients', { name: `evil${NUL}` }), 'name');
    expectRefused(await call('POST', '/apis', { identifier: `https://evil.example/${NUL}` }), 'identifier');
    expectRefused(
      await call('POST', '/apis', { identifier: 'https://evil.example', scopes: [{ value: 'read', description: `x${NUL}` }] }),
      'scopes.0.description',
    );
    expectRefused(
      await call('PATCH', `/clients/${caller.clientId}`, { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: NUL }] } }),
      'jwks.keys.0.kid',
    );
    expectRefused(await call('POST', '/grants', { client_id: caller.clientId, api: PAYMENTS, scopes: [`payments:read${NUL}`] }), 'scopes.0');
    expectRefused(await call('POST', '/config/apply', { version: 1, apis: [{ identifier: 'https://evil.example', name: `n${NUL}` }] }), 'apis.0.name');
    // A field name with a NUL is reported where it sits, not echoed.
    expectRefused(await call('POST', '/clients', { name: 'ok', [`a${NUL}`]: 1 }), '(a field name)');
    // `apply` from a file (the CLI calls the same operation): refused alike, naming the place.
    await expect(t.runtime.admin.applyConfig({ version: 1, clients: [{ name: 'c', description: `d${NUL}` }] })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('clients[0].description: the value must not contain the NUL character (U+0000)'),
    });
    expect((await call('GET', '/clients')).body.items).toEqual(before);
    expect((await call('GET', '/apis')).body.items).toHaveLength(3);
  });
});
