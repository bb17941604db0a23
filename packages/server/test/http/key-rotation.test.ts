import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { createVerifier } from '@m2m-auth/resource-server';
import { basic, createTestApp, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createRuntime } from '../../src/boot/create-runtime.js';
import { createLogger } from '../../src/http/logger.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import { type ConfigError, resolveServerConfig } from '../../src/config/server-config.js';

const PAYMENTS = 'https://payments.example';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETENTION = (86_400 + 60) * 1000;

let t: TestApp;
let client: { clientId: string; clientSecret: string };
beforeEach(async () => {
  t = await createTestApp({ runtime: { keyRotationCheckMs: 0 } });
  client = await seedExampleSystem(t.runtime);
});
afterEach(() => t.close());

const issue = async () =>
  (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(client.clientId, client.clientSecret))).body.access_token as string;
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const publishedKids = async () => ((await t.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] }).keys.map((key) => key.kid);
const rs256 = async () => (await t.runtime.admin.listKeys()).filter((key) => key.alg === 'RS256');

/** The resource-server SDK, fetching our JWKS through inject(); `offline` makes the issuer unreachable. */
function resourceServer() {
  const network = { offline: false };
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: PAYMENTS,
    jwksUri: `${ISSUER}/.well-known/jwks.json`,
    now: t.clock.now,
    cache: false,
    fetch: (async (url: string | URL) => {
      if (network.offline) throw new TypeError('fetch failed: issuer unreachable');
      const response = await t.app.inject({ url: new URL(String(url)).pathname });
      return new Response(response.body, { status: response.statusCode, headers: { 'cache-control': String(response.headers['cache-control']) } });
    }) as typeof fetch,
  });
  return { verifier, network };
}

describe('scheduled signing-key rotation (fake clock)', () => {
  it('pre-publishes, then switches, then retires — and no verifier ever misses a key', async () => {
    const [first] = await rs256();
    const { verifier, network } = resourceServer();
    await verifier.prefetch();
    expect(kidOf(await issue())).toBe(first!.kid);

    // Nothing is due until an hour (the pre-publish time) before the 90 days are up.
    t.clock.advance(90 * DAY - HOUR - 1000);
    expect(await t.runtime.rotateKeysNow()).toEqual([]);
    t.clock.advance(1000);
    const prepublished = (await t.runtime.rotateKeysNow()).filter((step) => step.alg === 'RS256');
    expect(prepublished).toEqual([{ step: 'prepublished', alg: 'RS256', kid: expect.any(String) }]);
    const next = prepublished[0]!.kid;
    expect(await publishedKids()).toContain(next);
    expect(kidOf(await issue())).toBe(first!.kid); // published, not signing yet

    // A resource server refreshes its cache some time in the window (max-age 300 s < 1 h).
    t.clock.advance(301_000);
    await verifier.prefetch();

    t.clock.advance(HOUR - 301_000 - 1000);
    const signedJustBefore = await issue();
    expect(kidOf(signedJustBefore)).toBe(first!.kid);
    t.clock.advance(1000);
    expect((await t.runtime.rotateKeysNow()).filter((step) => step.alg === 'RS256')).toEqual([
      { step: 'activated', alg: 'RS256', kid: next, previous: [first!.kid] },
    ]);
    const signedAfter = await issue();
    expect(kidOf(signedAfter)).toBe(next);

    // The issuer is unreachable now: both tokens verify from the cache alone.
    network.offline = true;
    expect((await verifier.verify(signedJustBefore)).clientId).toBe(client.clientId);
    expect((await verifier.verify(signedAfter)).clientId).toBe(client.clientId);
    network.offline = false;

    // The old key stays published for the longest token lifetime plus skew, then goes.
    t.clock.advance(RETENTION - 1000);
    expect((await t.runtime.rotateKeysNow()).filter((step) => step.step === 'retired')).toEqual([]);
    expect(await publishedKids()).toContain(first!.kid);
    t.clock.advance(1000);
    expect((await t.runtime.rotateKeysNow()).filter((step) => step.alg === 'RS256')).toEqual([{ step: 'retired', alg: 'RS256', kid: first!.kid }]);
    expect(await publishedKids()).not.toContain(first!.kid);
    expect(await publishedKids()).toContain(next);
  });

  it('only one of several processes sharing the storage performs a due step (storage lease)', async () => {
    const logger = createLogger('silent');
    const others = Array.from({ length: 3 }, () =>
      createRuntime({
        storage: t.runtime.storage,
        masterKey: parseMasterKey(generateMasterKey()),
        issuer: ISSUER,
        logger,
        now: t.clock.now,
        keyRotationCheckMs: 0,
      }),
    );
    t.clock.advance(90 * DAY);
    const results = await Promise.all([t.runtime, ...others].map((runtime) => runtime.rotateKeysNow()));
    expect(results.filter((steps) => steps.length > 0)).toHaveLength(1);
    expect((await rs256()).filter((key) => key.status === 'pending')).toHaveLength(1);
    await Promise.all(others.map((runtime) => runtime.close()));
  });
});

describe('keys retire and keys revoke', () => {
  it('retire refuses while tokens the key signed may be alive, unless forced', async () => {
    const first = (await rs256()).find((key) => key.status === 'active');
    await t.runtime.admin.rotateSigningKey('RS256');
    await expect(t.runtime.admin.retireSigningKey(first!.kid)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('may be alive until'),
    });
    t.clock.advance(900_000 + 60_000); // the longest TTL in use (900 s) plus skew
    await t.runtime.admin.retireSigningKey(first!.kid);
    expect(await publishedKids()).not.toContain(first!.kid);

    const second = (await rs256()).find((key) => key.status === 'active');
    await t.runtime.admin.rotateSigningKey('RS256');
    await t.runtime.admin.retireSigningKey(second!.kid, { force: true });
    expect(await publishedKids()).not.toContain(second!.kid);
  });

  it('revoke removes even the active key at once, and a replacement signs', async () => {
    const [first] = await rs256();
    const result = await t.runtime.admin.revokeSigningKey(first!.kid);
    expect(result.replacement).toEqual(expect.any(String));
    expect(await publishedKids()).not.toContain(first!.kid);
    expect(kidOf(await issue())).toBe(result.replacement);
    await expect(t.runtime.admin.revokeSigningKey(first!.kid)).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('rotation settings that break the rules are refused at start', () => {
  const problemsOf = (flags: Record<string, string>) => {
    try {
      resolveServerConfig(flags, {});
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };
  it('pre-publish shorter than the JWKS cache lifetime, retention shorter than tokens live, a silly period', () => {
    expect(problemsOf({})).toEqual([]);
    expect(problemsOf({ keyRotationDays: '0', keyPrepublishSeconds: '1' })).toEqual([]);
    expect(problemsOf({ keyPrepublishSeconds: '60' })).toEqual([expect.stringContaining('one JWKS cache lifetime (300 s)')]);
    expect(problemsOf({ keyRetentionSeconds: '3600' })).toEqual([expect.stringContaining('longest token lifetime')]);
    expect(problemsOf({ keyRotationDays: 'often' })).toEqual([expect.stringContaining('whole number')]);
  });
  it('parses rate limits', () => {
    expect(resolveServerConfig({ rateLimitClient: '100/s', rateLimitAddress: '600/min,burst=50' }, {}).rateLimits).toEqual({
      perClient: { capacity: 100, refillPerSecond: 100 },
      perAddress: { capacity: 50, refillPerSecond: 10 },
    });
    expect(problemsOf({ rateLimitClient: 'lots' })).toEqual([expect.stringContaining('100/s')]);
  });
});
