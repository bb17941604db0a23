import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { openSharedState } from '../../src/state/open-state.js';
import type { ResilientState } from '../../src/state/resilient-state.js';
import { basic, createClock, createTestApp, form, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { isRedisAvailable, REDIS_URL, deleteRedisKeys } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { logLines } from '../helpers/cli-process.js';
import { eventually } from '../storage/conformance/fixtures.js';

/**
 * The server's answers while its Redis is away (a TCP proxy the test stops and restarts in front
 * of the real Redis): tokens keep coming under per-instance limits; introspection, revocation and
 * private_key_jwt — decisions that need the shared state — answer 503; one log line per change.
 */
const isAvailable = await isRedisAvailable();
const run = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const redisAddress = new URL(REDIS_URL);
const PAYMENTS = 'https://payments.example';

let t: TestApp;
let proxy: TcpProxy;
let caller: { clientId: string; clientSecret: string };
let paymentsApi: string;

afterAll(async () => {
  if (!isAvailable) return;
  await deleteRedisKeys(run);
});

const health = () => (t.runtime.state as ResilientState).health;
const issue = () => postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(caller.clientId, caller.clientSecret));
const introspect = (token: string) =>
  t.app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: paymentsApi },
    payload: form({ token }),
  });
const events = (name: string) => logLines(t.logs()).filter((line) => line.event === name);

describe.skipIf(!isAvailable)('Redis away: the outage policy at the endpoints', () => {
  beforeEach(async () => {
    proxy = await startTcpProxy({ host: redisAddress.hostname, port: Number(redisAddress.port || 6379) });
    const clock = createClock();
    // Through the URL, as `serve --redis-url` would: the prefix keeps this run's keys apart.
    const state = openSharedState({ kind: 'redis', url: `redis://127.0.0.1:${proxy.port}/0?keyPrefix=${encodeURIComponent(run)}` }, clock.now);
    t = await createTestApp({ clock, runtime: { state, rateLimits: { perClient: { capacity: 3, refillPerSecond: 0.001 } } } });
    expect(await health().waitUntilAvailable(5000)).toBe(true);
    caller = await seedExampleSystem(t.runtime);
    const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
    paymentsApi = basic(rs.clientId, rs.clientSecret!);
  });
  afterEach(async () => {
    await t.close();
    await proxy.close();
  });

  it('tokens still issue under a local rate limit; introspection and revocation answer 503; all resumes when Redis is back', async () => {
    const before = await issue();
    expect(before.status).toBe(200);
    const token = before.body.access_token as string;
    expect((await introspect(token)).json()).toMatchObject({ active: true });

    await proxy.stop();
    // The per-client bucket is now this instance's: full again (3), then enforced.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await issue()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const during = await introspect(token);
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.headers['cache-control']).toBe('no-store');
    expect(during.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token’s revocation status cannot be checked right now; retry shortly.',
    });
    const revoked = await postToken(t.app, { token }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' });
    expect(revoked.status).toBe(503);
    expect(revoked.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The revocation cannot be recorded right now; retry shortly.' });

    // A token that is not valid anyway needs no shared state: still the RFC 7662 answer.
    expect((await introspect('not-a-token')).json()).toEqual({ active: false });

    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('m2m_auth_shared_state_available 0');
    expect(metrics).toContain('m2m_auth_shared_state_fallback_total{operation="take",outcome="local"} 4');
    expect(metrics).toContain('m2m_auth_shared_state_fallback_total{operation="isTokenRevoked",outcome="refused"} 1');
    expect(metrics).toContain('m2m_auth_token_errors_total{error="temporarily_unavailable"');
    expect(events('shared_state.unavailable')).toHaveLength(1);
    expect(events('introspection.failed')).toHaveLength(0);

    await proxy.start();
    await eventually(() => health().isAvailable(), 'the probe to find Redis back');
    expect((await introspect(token)).json()).toMatchObject({ active: true });
    // The shared bucket again: it was left empty-but-one before the outage (3 - 1).
    expect([(await issue()).status, (await issue()).status, (await issue()).status]).toEqual([200, 200, 429]);
    expect((await postToken(t.app, { token }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' })).status).toBe(200);
    expect((await introspect(token)).json()).toEqual({ active: false });
    expect(events('shared_state.unavailable')).toHaveLength(1);
    expect(events('shared_state.available')).toHaveLength(2);
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('m2m_auth_shared_state_available 1');
    expect(t.logs()).not.toContain(caller.clientSecret);
    expect(t.logs()).not.toContain(token);
  });

  it('opaque tokens: none is issued, introspected or revoked blind (503, never from local memory); all resumes when Redis is back', async () => {
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
    const token = (await issue()).body.access_token as string;
    expect((await introspect(token)).json()).toMatchObject({ active: true });

    await proxy.stop();
    const refused = await issue();
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'The token cannot be issued right now; retry shortly.' });
    const during = await introspect(token);
    expect(during.statusCode).toBe(503);
    expect(during.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The token cannot be checked right now; retry shortly.' });
    const revocation = await postToken(t.app, { token }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' });
    expect(revocation.status).toBe(503);
    // A malformed handle needs no shared state: still the RFC 7662 answer.
    expect((await introspect('m2mat_not-a-token')).json()).toEqual({ active: false });

    await proxy.start();
    await eventually(() => health().isAvailable(), 'the probe to find Redis back');
    expect((await introspect(token)).json()).toMatchObject({ active: true });
    expect((await issue()).status).toBe(200);
    expect((await postToken(t.app, { token }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' })).status).toBe(200);
    expect((await introspect(token)).json()).toEqual({ active: false });
  });

  it('private_key_jwt: an assertion that cannot be checked against replay is refused with 503, and accepted once Redis is back', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const created = await t.runtime.admin.createClient({ name: 'jwt-client', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } });
    await t.runtime.admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const at = Math.floor(t.clock.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(created.clientId)
      .setSubject(created.clientId)
      .setAudience(`${ISSUER}/oauth/token`)
      .setJti(crypto.randomUUID())
      .setIssuedAt(at)
      .setExpirationTime(at + 60)
      .sign(privateKey);
    const params = {
      grant_type: 'client_credentials',
      audience: PAYMENTS,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    await proxy.stop();
    const refused = await postToken(t.app, params);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The client assertion cannot be checked against replay right now; retry shortly.',
    });
    await proxy.start();
    await eventually(() => health().isAvailable(), 'the probe to find Redis back');
    // Never recorded while refused, so its first real use is accepted — and only once.
    expect((await postToken(t.app, params)).status).toBe(200);
    expect((await postToken(t.app, params)).status).toBe(401);
  });

  it('usage counts and quotas: tokens keep issuing; counts made while Redis is away are lost and counted as lost; a quota is enforced per instance', async () => {
    await t.runtime.admin.updateClient(caller.clientId, { quota: { perHour: 2 } });
    expect((await issue()).status).toBe(200);
    await t.runtime.usage.flush();
    expect(t.runtime.usage.stats()).toMatchObject({ recorded: 1, lost: { sharedState: 0 } });

    await proxy.stop();
    // The shared count (1) is out of reach: this instance counts the quota on its own, from zero.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await issue()).status);
    expect(statuses).toEqual([200, 200, 429]);
    await t.runtime.usage.flush();
    expect(t.runtime.usage.stats()).toMatchObject({ recorded: 1, lost: { sharedState: 2 } });
    expect(events('usage.counts_lost')).toHaveLength(1);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('m2m_auth_usage_tokens_lost_total{reason="shared_state"} 2');
    expect(metrics).toMatch(/m2m_auth_shared_state_fallback_total\{operation="consumeQuota",outcome="local"\} 3/);
    // Reading usage needs the shared state: 503, like any dependency away.
    await expect(t.runtime.admin.readUsage()).rejects.toMatchObject({ description: expect.stringContaining('Usage counts cannot be read right now') });

    await proxy.start();
    await eventually(() => health().isAvailable(), 'the probe to find Redis back');
    await t.runtime.admin.updateClient(caller.clientId, { quota: null });
    expect((await issue()).status).toBe(200);
    await t.runtime.usage.flush();
    expect(events('usage.counts_recovered')).toHaveLength(1);
    const usage = await t.runtime.admin.readUsage({ clientId: caller.clientId });
    expect(usage.totals[0]?.tokens).toBe(2);
  });
});
