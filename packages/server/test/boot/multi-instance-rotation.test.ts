import { afterAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { createRuntime, type ServerRuntime } from '../../src/boot/create-runtime.js';
import { createLogger } from '../../src/http/logger.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import { parseFormParams } from '../../src/protocol/form-params.js';
import { basic, createClock, form, ISSUER, seedExampleSystem } from '../helpers/test-app.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';
import { eventually } from '../storage/conformance/fixtures.js';

/**
 * Scheduled key rotation with three instances — three runtimes, each with its own connection pool
 * to one PostgreSQL schema, one master key — under one fake clock: the storage lease lets exactly
 * one act on each step, and the other instances learn of the new key through the database's
 * change feed, long before it signs (the pre-publication hour).
 */
const isAvailable = await isPostgresAvailable();
const schemas = createSchemaNames('m2m_rotation');
afterAll(() => schemas.dropAll());

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PAYMENTS = 'https://payments.example';

describe.skipIf(!isAvailable)('key rotation across three instances on PostgreSQL (fake clock)', () => {
  it('exactly one instance performs each step, and every instance publishes the next key before any signs with it', async () => {
    const schema = schemas.next();
    const clock = createClock();
    const masterKey = parseMasterKey(generateMasterKey());
    const logger = createLogger('silent');
    const storages = [await createPostgresStorage({ connectionString: POSTGRES_URL, schema, poolSize: 2 })];
    storages.push(...(await Promise.all([1, 2].map(() => createPostgresStorage({ connectionString: POSTGRES_URL, schema, poolSize: 2 })))));
    const runtimes = storages.map((storage) => createRuntime({ storage, masterKey, issuer: ISSUER, logger, now: clock.now, keyRotationCheckMs: 0 }));
    try {
      await runtimes[0]!.admin.ensureSigningKeys();
      const caller = await seedExampleSystem(runtimes[0]!);
      const signingKid = async (runtime: ServerRuntime) => {
        const answer = await runtime.token({
          authorization: basic(caller.clientId, caller.clientSecret),
          params: parseFormParams(form({ grant_type: 'client_credentials', audience: PAYMENTS })),
          remoteAddress: '127.0.0.1',
        });
        expect(answer.status).toBe(200);
        return decodeProtectedHeader((JSON.parse(answer.body) as { access_token: string }).access_token).kid!;
      };
      const published = async (runtime: ServerRuntime) => (JSON.parse(await runtime.jwksJson()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
      await eventually(
        async () => (await Promise.all(runtimes.map((runtime) => runtime.registry.client(caller.clientId)))).every(Boolean),
        'every instance to see the client',
      );
      const first = await signingKid(runtimes[0]!);

      // The pre-publication step is due: all three try at once, one acts.
      clock.advance(90 * DAY - HOUR);
      const prepublishing = await Promise.all(runtimes.map((runtime) => runtime.rotateKeysNow()));
      expect(prepublishing.filter((steps) => steps.length > 0)).toHaveLength(1);
      const next = prepublishing.flat().find((step) => step.step === 'prepublished' && step.alg === 'RS256')!.kid;
      // Every instance publishes it, through the change feed alone, while all still sign with the old key.
      await eventually(async () => (await Promise.all(runtimes.map(published))).every((kids) => kids.includes(next)), 'every instance to publish the next key');
      for (const runtime of runtimes) expect(await signingKid(runtime)).toBe(first);

      // An hour later the new key may sign: again exactly one instance switches.
      clock.advance(HOUR);
      const activating = await Promise.all(runtimes.map((runtime) => runtime.rotateKeysNow()));
      expect(activating.filter((steps) => steps.length > 0)).toHaveLength(1);
      expect(activating.flat()).toContainEqual({ step: 'activated', alg: 'RS256', kid: next, previous: [first] });
      await eventually(async () => (await Promise.all(runtimes.map(signingKid))).every((kid) => kid === next), 'every instance to sign with the new key');
      // The old key stays published on every instance for the tokens it signed.
      for (const runtime of runtimes) expect(await published(runtime)).toEqual(expect.arrayContaining([first, next]));
      const keys = (await runtimes[1]!.admin.listKeys()).filter((key) => key.alg === 'RS256');
      expect(keys.filter((key) => key.status === 'active').map((key) => key.kid)).toEqual([next]);
    } finally {
      await Promise.all(runtimes.map((runtime) => runtime.close()));
      await Promise.all(storages.map((storage) => storage.close()));
    }
  }, 60_000);
});
