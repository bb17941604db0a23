import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { availableStacks, type Stack } from '../helpers/stacks.js';

/**
 * Answers that no endpoint decides (no route, wrong method, unparsable request): the format the
 * path promises — RFC 6749 JSON under /oauth/, problem details elsewhere — never cached or
 * sniffed, never Fastify's own `{"error":"Bad Request","message":…}`.
 */
let t: TestApp;
let client: { clientId: string; clientSecret: string };
async function setup(stack?: Stack) {
  t = await createTestApp(stack ? { stack } : {});
  client = await seedExampleSystem(t.runtime);
}
afterEach(() => t.close());
// Client input reaches the stores (a lookup by client id, audience, admin id): those answers are
// tried on every stack CI has.
const stacks = await availableStacks();

const PROBLEM = /^application\/problem\+json/;

function expectHardened(headers: Record<string, unknown>) {
  expect(headers['cache-control']).toBe('no-store');
  expect(headers['x-content-type-options']).toBe('nosniff');
}

describe('answers no endpoint decides', () => {
  beforeEach(() => setup());

  it.each(['TRACE', 'PROPFIND', 'GET', 'PUT', 'DELETE', 'OPTIONS'] as const)('%s /oauth/token: 405, Allow: POST, RFC 6749 invalid_request', async (method) => {
    const response = await t.app.inject({ method: method as 'GET', url: '/oauth/token' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: 'invalid_request', error_description: 'This resource accepts POST.' });
    expectHardened(response.headers);
  });

  it('a method the server never serves is a 405 problem on any path; a known path with another method names its methods', async () => {
    const trace = await t.app.inject({ method: 'TRACE' as 'GET', url: '/' });
    expect(trace.statusCode).toBe(405);
    expect(trace.headers['content-type']).toMatch(PROBLEM);
    expect(trace.json()).toMatchObject({ type: 'urn:m2m-auth:problem:method-not-allowed', status: 405 });
    expectHardened(trace.headers);
    const post = await t.app.inject({ method: 'POST', url: '/.well-known/jwks.json', payload: 'x' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('404 is a problem that does not repeat the path back', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope/%3Cscript%3Ealert(1)%3C/script%3E?q=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.json()).toEqual({ type: 'urn:m2m-auth:problem:not-found', title: 'Not Found', status: 404, detail: 'No such resource.' });
    expect(response.body).not.toMatch(/script|nope/);
    expectHardened(response.headers);
  });

  it('a URL that cannot be decoded is a 400 in the path’s format', async () => {
    const problem = await t.app.inject({ method: 'GET', url: '/%zz' });
    expect(problem.statusCode).toBe(400);
    expect(problem.headers['content-type']).toMatch(PROBLEM);
    expectHardened(problem.headers);
  });

  it('an oversize body on the token endpoint is RFC 6749, elsewhere a problem; both no-store and nosniff', async () => {
    const big = `grant_type=client_credentials&pad=${'a'.repeat(20_000)}`;
    const oauth = await t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: big,
    });
    expect(oauth.statusCode).toBe(413);
    expect(oauth.json()).toEqual({ error: 'invalid_request', error_description: 'The request body must be at most 16384 bytes.' });
    expectHardened(oauth.headers);
  });

  it('JWKS and discovery keep their public caching and get nosniff', async () => {
    for (const url of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      const response = await t.app.inject({ url });
      expect(response.headers['cache-control']).toBe('public, max-age=300');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('every OAuth answer, success or error, is no-store and nosniff', async () => {
    const ok = await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example' }, basic(client.clientId, client.clientSecret));
    const bad = await postToken(t.app, { grant_type: 'client_credentials' });
    for (const { headers } of [ok, bad]) expectHardened(headers);
  });
});

describe.each(stacks)('client input in error descriptions and the log, on $name', (stack) => {
  beforeEach(() => setup(stack));

  const auth = () => basic(client.clientId, client.clientSecret);

  it('never echoes a value shaped like a credential, even from audience or scope (found by the fuzzer)', async () => {
    for (const pasted of [client.clientSecret, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc']) {
      for (const params of <Record<string, string>[]>[{ audience: pasted }, { audience: 'https://payments.example', scope: pasted }]) {
        const response = await postToken(t.app, { grant_type: 'client_credentials', ...params }, auth());
        expect(response.body.error_description).toContain('(not shown: it looks like a credential)');
        expect(JSON.stringify(response.body)).not.toContain(pasted);
      }
      expect(t.logs()).not.toContain(pasted);
    }
  });

  it('admin lookups of an unknown id never echo a value shaped like a credential (found by the fuzzer)', async () => {
    for (const lookup of [
      (id: string) => t.runtime.admin.getClient(id),
      (id: string) => t.runtime.admin.getGrant(id),
      (id: string) => t.runtime.admin.getApi(id),
      (id: string) => t.runtime.admin.getKey(id),
    ]) {
      const error = await lookup(client.clientSecret).then(
        () => undefined,
        (thrown: Error) => thrown,
      );
      expect(error?.message).toMatch(/^No .*\(not shown: it looks like a credential\)$/);
      expect(error?.message).not.toContain(client.clientSecret);
    }
  });

  it('answers a 5,000-character client_id with invalid_client, like any unknown client', async () => {
    const response = await postToken(t.app, { grant_type: 'client_credentials' }, basic('c'.repeat(5000), 'secret'));
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
  });

  it('never echoes grant_type: a secret pasted there comes back nowhere', async () => {
    const pasted = 'm2msk_pasted-into-the-wrong-field-0123456789';
    const response = await postToken(t.app, { grant_type: pasted, audience: 'https://payments.example' }, auth());
    expect(response.body).toEqual({
      error: 'unsupported_grant_type',
      error_description:
        'The grant type is not supported; supported: client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer.',
    });
    expect(t.logs()).not.toContain(pasted);
  });

  it('echoes an unknown audience or scope cut to 64 characters, and the log line stays bounded whatever the input', async () => {
    const audience = `https://${'a'.repeat(5000)}.example`;
    const unknownApi = await postToken(t.app, { grant_type: 'client_credentials', audience }, auth());
    expect(unknownApi.body.error).toBe('invalid_target');
    expect(unknownApi.body.error_description).toBe(`Unknown API: ${audience.slice(0, 64)}… (${audience.length} characters).`);
    const scope = `payments:${'x'.repeat(5000)}`;
    const unknownScope = await postToken(t.app, { grant_type: 'client_credentials', audience: 'https://payments.example', scope }, auth());
    expect((unknownScope.body.error_description as string).length).toBeLessThan(200);
    for (const huge of <Record<string, string>[]>[
      { grant_type: 'x'.repeat(5000) },
      { grant_type: 'client_credentials', resource: `not a uri ${'y'.repeat(5000)}` },
    ]) {
      await postToken(t.app, huge, auth());
    }
    const rejected = t
      .logs()
      .split('\n')
      .filter((line) => line.includes('.rejected'));
    expect(rejected.length).toBeGreaterThanOrEqual(4);
    for (const line of rejected) expect(Buffer.byteLength(line)).toBeLessThan(400);
  });
});
