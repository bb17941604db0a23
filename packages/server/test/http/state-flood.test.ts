import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { createSqliteState } from '../../src/state/sqlite/sqlite-state.js';
import { openSharedState } from '../../src/state/open-state.js';
import { isResilientState } from '../../src/state/resilient-state.js';
import type { SharedState, StateLimits } from '../../src/state/types.js';
import { basic, createClock, createTestApp, form, ISSUER, postToken, type TestApp } from '../helpers/test-app.js';
import { deleteRedisKeys, isRedisAvailable, REDIS_URL } from '../helpers/services.js';

/**
 * Issue 19: one client floods every bounded store of the shared state — revocations, used
 * assertions, failure counters, rate-limit buckets — through the HTTP API, with small bounds so
 * it is quick; another client's security state survives it, and the flooder alone is refused.
 * Run against the memory, SQLite and Redis state (Redis skipped when it does not answer, unless
 * M2M_AUTH_REQUIRE_SERVICES=1).
 */
const isRedisUp = await isRedisAvailable();
const redisRun = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-flood-'));
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (isRedisUp) await deleteRedisKeys(redisRun);
});

const PAYMENTS = 'https://payments.example';
const LIMITS: StateLimits = { maxEntries: 40, allowance: { revocations: 5, assertions: 16 } };
const RATE_LIMITS = { perClient: { capacity: 6, refillPerSecond: 1 / 3600 }, perAddress: { capacity: 12, refillPerSecond: 1 / 3600 } };
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const VICTIM_ADDRESS = '203.0.113.10';
const GUESSER_ADDRESS = '203.0.113.20';
const DRAINED_ADDRESS = '203.0.113.30';

const stacks: { name: string; skip: boolean; open: (now: () => number) => SharedState }[] = [
  { name: 'memory', skip: false, open: (now) => createMemoryState({ now, ...LIMITS }) },
  { name: 'sqlite', skip: false, open: (now) => createSqliteState({ path: join(directory, `${randomUUID()}.db`), now, ...LIMITS }) },
  {
    name: 'redis',
    skip: !isRedisUp,
    open: (now) => openSharedState({ kind: 'redis', url: `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(`${redisRun}${randomUUID()}:`)}` }, now, LIMITS),
  },
];

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface JwtClient {
  clientId: string;
  privateKey: SigningKey;
}

let t: TestApp;
afterEach(() => t?.close());

for (const stack of stacks) {
  describe.skipIf(stack.skip)(`one client floods every bounded store; another's security state survives (${stack.name})`, () => {
    it('revocations, used assertions, failure counters and rate-limit buckets', async () => {
      const clock = createClock();
      const state = stack.open(clock.now);
      t = await createTestApp({ clock, runtime: { state, rateLimits: RATE_LIMITS, failureLimits: { perClient: 3 } } });
      if (isResilientState(state)) expect(await state.health.waitUntilAvailable(5000)).toBe(true);
      await t.runtime.admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
      const victim = await jwtClient('victim');
      const attacker = await jwtClient('attacker');
      const resourceServer = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
      const introspect = async (token: string) =>
        (
          await t.app.inject({
            method: 'POST',
            url: '/oauth/introspect',
            headers: formHeaders(basic(resourceServer.clientId, resourceServer.clientSecret!)),
            payload: form({ token }),
          })
        ).json();

      // The victim's security state: a revoked token, a used assertion, a guesser's back-off
      // against it, an emptied address bucket.
      const victimToken = await issue(victim, VICTIM_ADDRESS);
      const keptToken = await issue(victim, VICTIM_ADDRESS);
      const usedAssertion = await assertion(victim, 'token');
      expect(
        (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...usedAssertion }, undefined, { remoteAddress: VICTIM_ADDRESS }))
          .status,
      ).toBe(200);
      expect((await revoke(victim, victimToken)).status).toBe(200);
      expect(await introspect(victimToken)).toEqual({ active: false });
      const guess = () =>
        postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...usedAssertion }, undefined, { remoteAddress: GUESSER_ADDRESS });
      for (let i = 0; i < 3; i++) expect((await guess()).status).toBe(401);
      expect((await guess()).status).toBe(429);
      let drains = 0;
      const drain = () => postToken(t.app, { grant_type: 'client_credentials' }, basic(`nobody-${(drains += 1)}`, 'x'), { remoteAddress: DRAINED_ADDRESS });
      for (let i = 0; i < 12; i++) expect((await drain()).status).not.toBe(429);
      expect((await drain()).status).toBe(429);

      // The flood, by one client: its own tokens revoked until it is refused…
      const attackerTokens = [];
      for (let i = 0; i < 6; i++) attackerTokens.push(await issue(attacker, `198.51.100.${i}`));
      for (const token of attackerTokens.slice(0, 5)) expect((await revoke(attacker, token)).status).toBe(200);
      const overRevocations = await revoke(attacker, attackerTokens[5]!);
      expectRefusal(overRevocations);
      expect(await introspect(attackerTokens[5]!)).toMatchObject({ active: true });
      // …fresh assertions until it is refused…
      let overAssertions;
      for (let i = 0; i < 20 && !overAssertions; i++) {
        const answer = await revoke(attacker, 'not-a-token');
        if (answer.status !== 200) overAssertions = answer;
      }
      expectRefusal(overAssertions!);
      // …and failures from many addresses, each a new counter and a new bucket, until none is left.
      const floodStatuses = new Set<number>();
      for (let i = 0; i < 60; i++) {
        const spoofed = await assertion(attacker, 'token', { signWith: victim.privateKey });
        floodStatuses.add((await postToken(t.app, { grant_type: 'client_credentials', ...spoofed }, undefined, { remoteAddress: `192.0.2.${i}` })).status);
      }
      expect([...floodStatuses].sort()).toEqual([401, 429]);
      expect((await postToken(t.app, { grant_type: 'client_credentials' }, basic('nobody', 'x'), { remoteAddress: '192.0.2.250' })).status).toBe(429);

      // The victim's state survived every bit of it.
      expect(await introspect(victimToken)).toEqual({ active: false });
      const replayed = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...usedAssertion }, undefined, {
        remoteAddress: VICTIM_ADDRESS,
      });
      // Refused as a replay: 401, or 429 because the failure counters are full and a failure from
      // a source without a counter is throttled — either way a failure (a first use would be a 200).
      expect([401, 429]).toContain(replayed.status);
      expect(replayed.body.access_token).toBeUndefined();
      expect((await guess()).status).toBe(429);
      expect((await drain()).status).toBe(429);
      // And the victim is not refused for the flooder's sake: its own allowances are untouched.
      expect((await revoke(victim, keptToken)).status).toBe(200);
      expect(await introspect(keptToken)).toEqual({ active: false });
      expect(await issue(victim, VICTIM_ADDRESS)).toEqual(expect.any(String));

      // The flooder is let in again once its own records expire (tokens live an hour at most).
      clock.advance(3_602_000);
      const later = await issue(attacker, '198.51.100.0');
      expect((await revoke(attacker, later)).status).toBe(200);
      expect(await introspect(later)).toEqual({ active: false });
    });
  });
}

async function jwtClient(name: string): Promise<JwtClient> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const created = await t.runtime.admin.createClient({ name, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } });
  await t.runtime.admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
  return { clientId: created.clientId, privateKey };
}

async function assertion(client: JwtClient, endpoint: 'token' | 'revoke', options: { signWith?: SigningKey } = {}) {
  const at = Math.floor(t.clock.now() / 1000);
  const signed = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(`${ISSUER}/oauth/${endpoint}`)
    .setJti(randomUUID())
    .setIssuedAt(at)
    .setExpirationTime(at + 60)
    .sign(options.signWith ?? client.privateKey);
  return { client_assertion_type: ASSERTION_TYPE, client_assertion: signed };
}

async function issue(client: JwtClient, remoteAddress: string): Promise<string> {
  const answer = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...(await assertion(client, 'token')) }, undefined, {
    remoteAddress,
  });
  expect(answer.status).toBe(200);
  return answer.body.access_token as string;
}

async function revoke(client: JwtClient, token: string) {
  const answer = await t.app.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: formHeaders(),
    payload: form({ token, ...(await assertion(client, 'revoke')) }),
  });
  return { status: answer.statusCode, headers: answer.headers, body: answer.json() as Record<string, unknown> };
}

function formHeaders(authorization?: string) {
  return { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) };
}

/** Over its own allowance: 429, retry later, nothing internal said. */
function expectRefusal(answer: { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }) {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
  expect(answer.headers['cache-control']).toBe('no-store');
}
