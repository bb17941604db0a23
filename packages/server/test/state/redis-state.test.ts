import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
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
