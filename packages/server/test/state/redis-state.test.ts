import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisState } from '../../src/state/redis/redis-state.js';
import { describeSharedStateConformance } from './state-conformance.js';
import { isRedisAvailable, REDIS_URL, deleteRedisKeys } from '../helpers/services.js';

// Every handle of this run under one key prefix, deleted afterwards; skipped without Redis unless
// M2M_AUTH_REQUIRE_SERVICES=1.
const isAvailable = await isRedisAvailable();
const run = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
let handles = 0;
let lastPrefix = '';

afterAll(async () => {
  if (!isAvailable) return;
  await deleteRedisKeys(run);
});

if (isAvailable) {
  describeSharedStateConformance('redis', {
    make: async (clock, options) => createRedisState({ url: REDIS_URL, keyPrefix: (lastPrefix = `${run}${(handles += 1)}:`), now: clock.now, ...options }),
    openAnother: async (clock, options) => createRedisState({ url: REDIS_URL, keyPrefix: lastPrefix, now: clock.now, ...options }),
  });
}

it.skipIf(!isAvailable)('usage buckets and quota counters carry Redis TTLs, so Redis drops them after their retention by itself', async () => {
  const keyPrefix = `${run}ttl:`;
  const at = Date.UTC(2026, 0, 1);
  const state = createRedisState({ url: REDIS_URL, keyPrefix, now: () => at });
  const redis = new Redis(REDIS_URL);
  try {
    await state.addUsage([
      { clientId: 'client-a', api: 'https://api.example', granularity: 'hour', start: at, tokens: 1, refetches: 0, expiresAt: at + 48 * 3_600_000 },
    ]);
    await state.consumeQuota([{ key: 'client-a:hour', limit: 5, endsAt: at + 3_600_000 }], true);
    const hourTtl = await redis.pttl(`${keyPrefix}usage:hour:${at}`);
    expect(hourTtl).toBeGreaterThan(47 * 3_600_000);
    expect(hourTtl).toBeLessThanOrEqual(48 * 3_600_000);
    expect(await redis.pttl(`${keyPrefix}usage-index:hour`)).toBeGreaterThan(47 * 3_600_000);
    const quotaTtl = await redis.pttl(`${keyPrefix}quota:client-a:hour`);
    expect(quotaTtl).toBeGreaterThan(3_500_000);
    expect(quotaTtl).toBeLessThanOrEqual(3_600_000);
  } finally {
    redis.disconnect();
    await state.close();
  }
});
