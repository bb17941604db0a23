import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { basic, createTestApp, postToken, type TestApp } from '../helpers/test-app.js';
import { logLines } from '../helpers/cli-process.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';

/**
 * Admin input the attack probe used to make the server work for it: JWK Sets with a value nested
 * thousands deep (a 500 from a stack overflow, or stored and then `export` failed), and unknown
 * field names of megabytes echoed back several times over (a 4 MB key gave a 12 MB answer).
 */
let t: TestApp;
let admin: Record<string, string>;
beforeEach(async () => {
  t = await createTestApp();
  const boot = await t.runtime.admin.bootstrapAdminClient();
  const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
  admin = { authorization: `Bearer ${token.body.access_token as string}` };
});
afterEach(async () => {
  expect(logLines(t.logs()).filter((line) => (line.level as number) >= 50)).toEqual([]);
  await t.close();
});

const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) => {
  const response = await t.app.inject({
    method,
    url: `/admin/v1${url}`,
    headers: { ...admin, 'content-type': 'application/json' },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  });
  return { status: response.statusCode, body: response.body, json: () => JSON.parse(response.body) as Record<string, any> };
};

function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

async function publicJwk() {
  const { publicKey } = await generateKeyPair('ES256');
  return { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
}

describe('client JWK Sets: flat public keys of bounded size only', () => {
  it.each([5_000, 2_000])('a value nested %i deep inside a JWK is a 400, not a 500 nor stored', async (depth) => {
    const jwk = JSON.stringify(await publicJwk());
    const jwks = `{"keys":[${jwk.slice(0, -1)},"x-extra":${nestedJson(depth)}}]}`;
    const created = await call('POST', '/clients', `{"name":"deep","jwks":${jwks}}`);
    expect(created.status).toBe(400);
    expect(created.json()).toMatchObject({ type: 'urn:m2m-auth:problem:validation-failed' });
    const document = `{"version":1,"clients":[{"name":"deep","jwks":${jwks}}]}`;
    const applied = await call('POST', '/config/apply', document);
    expect(applied.status).toBe(400);
    expect(applied.json().detail).toContain('clients[0].jwks');
    expect(applied.body.length).toBeLessThan(2_000);
    // Nothing was stored, and export still works.
    expect((await call('GET', '/clients')).json().items).toHaveLength(1);
    expect((await call('GET', '/config')).status).toBe(200);
  });

  it.each([
    ['a private key', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }],
    ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }],
    ['an unknown member', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', note: 'hi' }],
    ['a member of another kty', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', n: 'n' }],
    ['a member that is not a string', { kty: 'EC', crv: 'P-256', x: 'x', y: { v: 1 } }],
    ['an oversize member', { kty: 'RSA', n: 'A'.repeat(5_000), e: 'AQAB' }],
    ['a missing member', { kty: 'RSA', n: 'abc' }],
  ])('refuses %s, through the API and through apply', async (_, key) => {
    expect((await call('POST', '/clients', { name: 'c', jwks: { keys: [key] } })).status).toBe(400);
    const applied = await call('POST', '/config/apply', { version: 1, clients: [{ name: 'c', jwks: { keys: [key] } }] });
    expect(applied.status).toBe(400);
    expect(applied.json().errors[0].field).toBe('clients[0].jwks');
  });

  it('refuses more than 20 keys, and members beside keys', async () => {
    const key = await publicJwk();
    expect((await call('POST', '/clients', { name: 'c', jwks: { keys: Array.from({ length: 21 }, () => key) } })).status).toBe(400);
    expect((await call('POST', '/clients', { name: 'c', jwks: { keys: [key], extra: { a: 1 } } })).status).toBe(400);
    expect((await call('POST', '/config/apply', { version: 1, clients: [{ name: 'c', jwks: { keys: Array.from({ length: 21 }, () => key) } }] })).status).toBe(
      400,
    );
  });

  it('accepts a real public key with the usual members, and export round-trips it', async () => {
    const key = await publicJwk();
    const created = await call('POST', '/clients', { name: 'jwt', jwks: { keys: [{ ...key, key_ops: ['verify'], ext: true }] } });
    expect(created.status).toBe(201);
    const exported = (await call('GET', '/config')).json();
    const applied = await call('POST', '/config/apply?dry_run=true', exported);
    expect(applied.status).toBe(200);
    expect(applied.json().plan.changes).toEqual([]);
  });
});

describe('validation errors echo the caller’s input bounded, credentials withheld', () => {
  const key = (size: number) => `k${'x'.repeat(size - 1)}`;

  it('a 4 MB unknown field name in an applied document: a small 400 without the name', async () => {
    const big = key(4 * 1024 * 1024);
    for (const document of [
      { version: 1, [big]: 1 },
      { version: 1, clients: [{ name: 'c', [big]: 1 }] },
    ]) {
      const answer = await call('POST', '/config/apply', document);
      expect(answer.status).toBe(400);
      expect(answer.body.length).toBeLessThan(2_000);
      expect(answer.body).not.toContain('x'.repeat(100));
      expect(answer.json()).toMatchObject({ type: 'urn:m2m-auth:problem:validation-failed' });
    }
  });

  it('a 500 kB unknown field name in a request body: a small 400 without the name', async () => {
    const answer = await call('POST', '/clients', { name: 'c', [key(500 * 1024)]: 1 });
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(1_000);
    expect(answer.json().errors[0]).toEqual({ field: expect.stringMatching(/^kx{63}… \(512000 characters\)$/), message: 'is not a known field' });
  });

  it('an unknown field name or value shaped like a credential is withheld', async () => {
    const secret = `m2msk_${'A1b2'.repeat(10)}`;
    const body = await call('POST', '/clients', { name: 'c', [secret]: 1 });
    expect(body.status).toBe(400);
    expect(body.body).not.toContain(secret);
    expect(body.json().errors[0].field).toBe('(not shown: it looks like a credential)');
    const applied = await call('POST', '/config/apply', {
      version: 1,
      apis: [{ identifier: 'https://a.example', scopes: [`${secret} x`] }],
      grants: [{ client: secret, api: 'https://a.example' }],
    });
    expect(applied.status).toBe(400);
    expect(applied.body).not.toContain(secret);
  });

  it('an applied document with thousands of mistakes names the first 50 and counts the rest', async () => {
    const clients = Array.from({ length: 5_000 }, (_, i) => ({ name: `c${i}`, bad: i }));
    const answer = await call('POST', '/config/apply', { version: 1, clients });
    expect(answer.status).toBe(400);
    expect(answer.json().detail).toContain('… and 4950 more');
    // 50 messages, each naming the fields a client may have (a list that grows with the product),
    // in the detail and in the errors list: bounded by the 50, not by the 5,000 mistakes.
    expect(answer.body.length).toBeLessThan(40_000);
  });

  it('a huge invalid value in an applied document is cut, not sent back whole', async () => {
    const answer = await call('POST', '/config/apply', {
      version: 1,
      apis: [{ identifier: 'https://a.example', scopes: [`${'y'.repeat(100_000)} z`], signing_alg: { deep: { er: 1 } } }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(2_000);
    expect(answer.json().detail).toContain('(got an object)');
  });
});
