import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type ServerRuntime } from '../../src/boot/create-runtime.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { openSharedState } from '../../src/state/open-state.js';
import { isResilientState } from '../../src/state/resilient-state.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import type { Storage } from '../../src/storage/types.js';
import type { SharedState } from '../../src/state/types.js';
import { availableStacks } from '../helpers/stacks.js';
import { basic, createClock, form, ISSUER } from '../helpers/test-app.js';

/**
 * Two instances behind a load balancer on one PostgreSQL and one Redis: each counts the tokens it
 * issues and writes them in its own batches, and the usage either one reports is the sum; an
 * enforced quota is one count between them, so the pair never issues more than it allows.
 */
const stack = (await availableStacks()).find((candidate) => candidate.name === 'postgres+redis');
const PAYMENTS = 'https://payments.example';
const START = Date.UTC(2026, 10, 24, 9, 0, 0);

interface Instance {
  app: FastifyInstance;
  runtime: ServerRuntime;
  storage: Storage;
  state: SharedState;
}

describe.skipIf(!stack)('usage and quotas across instances (PostgreSQL + Redis)', () => {
  const clock = createClock(START);
  const masterKey = generateMasterKey();
  const instances: Instance[] = [];
  let removePlace: () => Promise<void>;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    const place = await stack!.processArgs('');
    removePlace = place.close;
    const databaseUrl = place.args[place.args.indexOf('--database-url') + 1]!;
    const redisUrl = place.args[place.args.indexOf('--redis-url') + 1]!;
    for (let i = 0; i < 2; i += 1) {
      const storage = await openStorage({ url: databaseUrl, poolSize: 2 });
      const state = openSharedState({ kind: 'redis', url: redisUrl }, clock.now);
      if (isResilientState(state)) await state.health.waitUntilAvailable(5000);
      const logger = createLogger('silent');
      // Batches are written when the test says (flush), never by a timer during it.
      const runtime = createRuntime({
        storage,
        state,
        masterKey: parseMasterKey(masterKey),
        issuer: ISSUER,
        logger,
        now: clock.now,
        usage: { flushIntervalMs: 3_600_000 },
      });
      await runtime.admin.ensureSigningKeys();
      const app = buildApp(runtime, { logger });
      await app.ready();
      instances.push({ app, runtime, storage, state });
    }
    const { admin } = instances[0]!.runtime;
    await admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
    const created = await admin.createClient({ name: 'reports' });
    await admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    client = { clientId: created.clientId, clientSecret: created.clientSecret! };
    for (const instance of instances) await instance.runtime.registry.refresh();
  });

  afterAll(async () => {
    for (const { app, runtime, storage, state } of instances) {
      await app.close();
      await runtime.close();
      await state.close();
      await storage.close();
    }
    await removePlace?.();
  });

  const token = async (instance: Instance) =>
    (
      await instance.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.clientId, client.clientSecret) },
        payload: form({ grant_type: 'client_credentials', audience: PAYMENTS }),
      })
    ).statusCode;

  it('each instance counts what it issues; either reports the sum, by hour and by day', async () => {
    const [a, b] = instances as [Instance, Instance];
    for (let i = 0; i < 3; i++) expect(await token(a)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await token(b)).toBe(200);
    clock.advance(3_600_000);
    expect(await token(b)).toBe(200);
    await Promise.all(instances.map((instance) => instance.runtime.usage.flush()));
    for (const instance of instances) {
      const hours = await instance.runtime.admin.readUsage({ clientId: client.clientId, granularity: 'hour' });
      expect(hours.buckets.map(({ start, tokens }) => [start - START, tokens])).toEqual([
        [0, 5],
        [3_600_000, 1],
      ]);
      const days = await instance.runtime.admin.readUsage({ clientId: client.clientId });
      expect(days.totals).toEqual([{ clientId: client.clientId, api: PAYMENTS, tokens: 6, refetches: expect.any(Number) }]);
    }
    // Each instance marks the refetches it sees: a 2 of its 3 tokens, b 1 of its first 2 (its
    // token an hour later is a renewal: the one before had expired).
    expect((await a.runtime.admin.readUsage({ clientId: client.clientId })).totals[0]?.refetches).toBe(3);
  });

  it('an enforced quota is one count between the instances: alternating requests stop at the limit', async () => {
    const [a, b] = instances as [Instance, Instance];
    await a.runtime.admin.updateClient(client.clientId, { quota: { perHour: 4 } });
    await b.runtime.registry.refresh();
    clock.advance(3_600_000);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await token(i % 2 === 0 ? a : b));
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const racing = await Promise.all([a, b, a, b].map(token));
    expect(racing).toEqual([429, 429, 429, 429]);
    clock.advance(3_600_000);
    const raced = await Promise.all([a, b, a, b, a, b].map(token));
    expect(raced.filter((status) => status === 200)).toHaveLength(4);
  });
});
