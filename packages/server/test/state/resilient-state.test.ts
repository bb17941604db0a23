import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisState } from '../../src/state/redis/redis-state.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { createResilientState, SharedStateUnavailableError, type AvailabilityChange, type ResilientState } from '../../src/state/resilient-state.js';
import { isRedisAvailable, REDIS_URL, deleteRedisKeys } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually } from '../storage/conformance/fixtures.js';

/**
 * The outage policy against a real Redis behind a TCP proxy the test stops, stalls and restarts.
 * A second handle straight to Redis (no proxy) stands for another instance. Keys live under one
 * prefix per run, deleted afterwards; skipped without Redis unless M2M_AUTH_REQUIRE_SERVICES=1.
 */
const isAvailable = await isRedisAvailable();
const run = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
const redisAddress = new URL(REDIS_URL);
const now = () => Date.now();
const LIMIT = { capacity: 2, refillPerSecond: 0.001 };

let proxy: TcpProxy;
let state: ResilientState;
let other: ReturnType<typeof createRedisState>;
let changes: AvailabilityChange[];

afterAll(async () => {
  if (!isAvailable) return;
  await deleteRedisKeys(run);
});

describe.skipIf(!isAvailable)('resilient shared state: Redis away and back', () => {
  beforeEach(async () => {
    proxy = await startTcpProxy({ host: redisAddress.hostname, port: Number(redisAddress.port || 6379) });
    const keyPrefix = `${run}${randomBytes(4).toString('hex')}:`;
    state = createResilientState({
      shared: createRedisState({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix, now, commandTimeoutMs: 200 }),
      local: createMemoryState({ now }),
      probeIntervalMs: 50,
    });
    other = createRedisState({ url: REDIS_URL, keyPrefix, now });
    changes = [];
    state.health.onChange((change) => changes.push(change));
    expect(await state.health.waitUntilAvailable(5000)).toBe(true);
  });
  afterEach(async () => {
    await state.close();
    await other.close();
    await proxy.close();
  });

  it('while Redis answers, every operation is shared with the other instances', async () => {
    expect(await state.take('rc:a', LIMIT)).toMatchObject({ isAllowed: true });
    expect(await other.take('rc:a', LIMIT)).toMatchObject({ isAllowed: true });
    expect(await state.take('rc:a', LIMIT)).toMatchObject({ isAllowed: false });
    await other.revokeToken('jti-1', now() + 60_000, 'client');
    expect(await state.isTokenRevoked('jti-1')).toBe(true);
    expect(await other.useOnce('as:1', now() + 60_000, 'client')).toBe(true);
    expect(await state.useOnce('as:1', now() + 60_000, 'client')).toBe(false);
    expect(changes).toEqual([{ isAvailable: true }]);
    expect(state.health.fallbackCounts()).toEqual([]);
  });

  it('Redis gone: limits fall back to this instance, revocation and replay checks are refused; reported once', async () => {
    await other.take('rc:b', LIMIT);
    await other.take('rc:b', LIMIT);
    expect(await state.take('rc:b', LIMIT)).toMatchObject({ isAllowed: false });
    await proxy.stop();

    // The local bucket starts full and is enforced on its own.
    const local = [];
    for (let i = 0; i < 3; i++) local.push((await state.take('rc:b', LIMIT)).isAllowed);
    expect(local).toEqual([true, true, false]);
    expect((await state.countAttempt('fa:1', 60_000)).count).toBe(1);
    expect((await state.countAttempt('fa:1', 60_000)).count).toBe(2);
    expect(await state.peekAttempts('fa:1')).toMatchObject({ count: 2 });

    await expect(state.isTokenRevoked('jti-2')).rejects.toBeInstanceOf(SharedStateUnavailableError);
    await expect(state.useOnce('as:2', now() + 60_000, 'client')).rejects.toMatchObject({ operation: 'useOnce' });
    await expect(state.revokeToken('jti-2', now() + 60_000, 'client')).rejects.toMatchObject({ operation: 'revokeToken' });

    expect(changes.map((change) => change.isAvailable)).toEqual([true, false]);
    expect(state.health.isAvailable()).toBe(false);
    expect(state.health.fallbackCounts()).toEqual(
      expect.arrayContaining([
        { operation: 'take', outcome: 'local', count: 3 },
        { operation: 'countAttempt', outcome: 'local', count: 2 },
        { operation: 'isTokenRevoked', outcome: 'refused', count: 1 },
        { operation: 'useOnce', outcome: 'refused', count: 1 },
        { operation: 'revokeToken', outcome: 'refused', count: 1 },
      ]),
    );

    // Back: the probe notices by itself, and the shared answers resume.
    await proxy.start();
    await eventually(() => state.health.isAvailable(), 'the probe to find Redis back');
    expect(changes.map((change) => change.isAvailable)).toEqual([true, false, true]);
    expect(await state.take('rc:b', LIMIT)).toMatchObject({ isAllowed: false });
    await other.revokeToken('jti-3', now() + 60_000, 'client');
    expect(await state.isTokenRevoked('jti-3')).toBe(true);
    expect(await state.useOnce('as:3', now() + 60_000, 'client')).toBe(true);
    expect(await other.useOnce('as:3', now() + 60_000, 'client')).toBe(false);
  });

  it('a hung Redis (connection open, no answers) is bounded by the command timeout, not waited for', async () => {
    proxy.stall();
    // Would hang until the test's own timeout without commandTimeout.
    expect(await state.take('rc:c', LIMIT)).toMatchObject({ isAllowed: true });
    await expect(state.isTokenRevoked('jti-4')).rejects.toBeInstanceOf(SharedStateUnavailableError);
    expect(changes.map((change) => change.isAvailable)).toEqual([true, false]);
    await proxy.stop();
    await proxy.start();
    await eventually(() => state.health.isAvailable(), 'the probe to find Redis back');
    expect(await state.isTokenRevoked('jti-4')).toBe(false);
  });

  it('a Redis that is down at start: served by the policy at once, and taken up when it comes', async () => {
    await proxy.stop();
    const late = createResilientState({
      shared: createRedisState({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: `${run}late:`, now, commandTimeoutMs: 200 }),
      local: createMemoryState({ now }),
      probeIntervalMs: 50,
    });
    const seen: boolean[] = [];
    late.health.onChange((change) => seen.push(change.isAvailable));
    try {
      expect(await late.health.waitUntilAvailable(300)).toBe(false);
      expect(await late.take('rc:d', LIMIT)).toMatchObject({ isAllowed: true });
      await expect(late.useOnce('as:4', now() + 60_000, 'client')).rejects.toBeInstanceOf(SharedStateUnavailableError);
      await proxy.start();
      await eventually(() => late.health.isAvailable(), 'the probe to find Redis back');
      expect(await late.useOnce('as:4', now() + 60_000, 'client')).toBe(true);
      expect(seen).toEqual([false, true]);
    } finally {
      await late.close();
    }
  });
});
