import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCapacityError, type SharedState, type StateLimits } from '../../src/state/types.js';

export interface StateClock {
  now: () => number;
  advance(ms: number): void;
}

export interface StateAdapterFactory {
  /** A fresh, empty state whose clock is `clock.now`, with these bounds (`maxEntries`, per-client `allowance`). */
  make(clock: StateClock, options?: StateLimits): Promise<SharedState>;
  /**
   * A second handle on the same state, as another worker process would open it; adapters that
   * cannot be shared (memory) leave it out and skip the cross-process cases.
   */
  openAnother?(clock: StateClock, options?: StateLimits): Promise<SharedState>;
}

/**
 * The one behavioural contract of the shared-state adapters (memory, SQLite, Redis): an
 * adapter is done when this suite passes against it unchanged. Time moves only through `clock`.
 */
export function describeSharedStateConformance(adapterName: string, factory: StateAdapterFactory): void {
  describe(`shared state conformance: ${adapterName}`, () => {
    const T0 = Date.UTC(2026, 0, 1);
    let at = T0;
    const clock: StateClock = { now: () => at, advance: (ms) => void (at += ms) };
    let state: SharedState;
    const opened: SharedState[] = [];

    beforeEach(async () => {
      at = T0;
      state = await factory.make(clock);
      opened.push(state);
    });
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close();
    });

    describe('RevokedTokenStore', () => {
      it('remembers a revoked jti until the token expires, then forgets it', async () => {
        expect(await state.isTokenRevoked('jti-1')).toBe(false);
        await state.revokeToken('jti-1', T0 + 60_000, 'client-a');
        expect(await state.isTokenRevoked('jti-1')).toBe(true);
        expect(await state.isTokenRevoked('jti-2')).toBe(false);
        clock.advance(60_000);
        expect(await state.isTokenRevoked('jti-1')).toBe(false);
        expect(await state.purgeExpired()).toBeGreaterThanOrEqual(0);
      });

      it('ignores revoking an already expired token, and revoking twice keeps the later expiry', async () => {
        await state.revokeToken('old', T0 - 1, 'client-a');
        expect(await state.isTokenRevoked('old')).toBe(false);
        await state.revokeToken('twice', T0 + 10_000, 'client-a');
        await state.revokeToken('twice', T0 + 5_000, 'client-a');
        clock.advance(7_000);
        expect(await state.isTokenRevoked('twice')).toBe(true);
      });
    });

    describe('AssertionReplayStore', () => {
      it('accepts an id once until it expires, then again', async () => {
        expect(await state.useOnce('client\njti', T0 + 30_000, 'client')).toBe(true);
        expect(await state.useOnce('client\njti', T0 + 30_000, 'client')).toBe(false);
        expect(await state.useOnce('client\nother', T0 + 30_000, 'client')).toBe(true);
        clock.advance(30_000);
        expect(await state.useOnce('client\njti', T0 + 60_000, 'client')).toBe(true);
      });

      it('accepts one of many concurrent uses of the same id', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => state.useOnce('race', T0 + 1000, 'client')));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('OpaqueTokenStore', () => {
      it('keeps a value until it expires, then forgets it', async () => {
        expect(await state.getOpaqueToken('k-1')).toBeUndefined();
        await state.putOpaqueToken('k-1', 'sealed:{"a":1}', T0 + 60_000, 'client-a');
        expect(await state.getOpaqueToken('k-1')).toBe('sealed:{"a":1}');
        expect(await state.getOpaqueToken('k-2')).toBeUndefined();
        clock.advance(59_999);
        expect(await state.getOpaqueToken('k-1')).toBe('sealed:{"a":1}');
        clock.advance(1);
        expect(await state.getOpaqueToken('k-1')).toBeUndefined();
        expect(await state.purgeExpired()).toBeGreaterThanOrEqual(0);
        expect(await state.getOpaqueToken('k-1')).toBeUndefined();
      });

      it('forgets a deleted value at once, and says whether a live one was there', async () => {
        await state.putOpaqueToken('k', 'value', T0 + 60_000, 'client-a');
        expect(await state.deleteOpaqueToken('k')).toBe(true);
        expect(await state.getOpaqueToken('k')).toBeUndefined();
        expect(await state.deleteOpaqueToken('k')).toBe(false);
        expect(await state.deleteOpaqueToken('never')).toBe(false);
        await state.putOpaqueToken('expiring', 'value', T0 + 1000, 'client-a');
        clock.advance(1000);
        expect(await state.deleteOpaqueToken('expiring')).toBe(false);
      });

      it('stores nothing for a token already expired', async () => {
        await state.putOpaqueToken('old', 'value', T0, 'client-a');
        expect(await state.getOpaqueToken('old')).toBeUndefined();
      });
    });

    describe('AttemptCounterStore', () => {
      it('counts within a sliding lifetime and starts over once it passes', async () => {
        expect(await state.peekAttempts('k')).toBeUndefined();
        expect(await state.countAttempt('k', 60_000)).toEqual({ count: 1, expiresAt: T0 + 60_000 });
        clock.advance(50_000);
        expect(await state.countAttempt('k', 60_000)).toEqual({ count: 2, expiresAt: T0 + 110_000 });
        expect(await state.peekAttempts('k')).toEqual({ count: 2, expiresAt: T0 + 110_000 });
        clock.advance(60_000);
        expect(await state.peekAttempts('k')).toBeUndefined();
        expect((await state.countAttempt('k', 60_000)).count).toBe(1);
      });

      it('keeps keys apart', async () => {
        await state.countAttempt('a', 1000);
        await state.countAttempt('a', 1000);
        expect((await state.countAttempt('b', 1000)).count).toBe(1);
      });
    });

    describe('TokenBucketStore', () => {
      const limit = { capacity: 3, refillPerSecond: 1 };
      it('allows a burst of capacity, then refuses with the time until the next token', async () => {
        for (let i = 0; i < 3; i++) expect((await state.take('c', limit)).isAllowed).toBe(true);
        const refused = await state.take('c', limit);
        expect(refused.isAllowed).toBe(false);
        expect(refused.retryAfterMs).toBe(1000);
        clock.advance(1000);
        expect((await state.take('c', limit)).isAllowed).toBe(true);
        expect((await state.take('c', limit)).isAllowed).toBe(false);
        expect((await state.take('other', limit)).isAllowed).toBe(true);
      });

      it('refills to capacity, never beyond', async () => {
        for (let i = 0; i < 3; i++) await state.take('c', limit);
        clock.advance(3_600_000);
        for (let i = 0; i < 3; i++) expect((await state.take('c', limit)).isAllowed).toBe(true);
        expect((await state.take('c', limit)).isAllowed).toBe(false);
      });
    });

    describe('UsageCounterStore', () => {
      const HOUR = 3_600_000;
      const DAY = 24 * HOUR;
      const count = (clientId: string, api: string, granularity: 'hour' | 'day', start: number, tokens: number, refetches = 0, keepMs = 2 * DAY) => ({
        clientId,
        api,
        granularity,
        start,
        tokens,
        refetches,
        expiresAt: start + keepMs,
      });

      it('adds batches into buckets per client, API, hour and day, read in order and filtered', async () => {
        await state.addUsage([
          count('client-b', 'https://api.example', 'hour', T0, 3, 1),
          count('client-a', 'https://api.example', 'hour', T0, 2),
          count('client-a', 'https://api.example', 'day', T0, 2),
          count('client-a', 'https://other.example', 'hour', T0 + HOUR, 1),
        ]);
        await state.addUsage([count('client-a', 'https://api.example', 'hour', T0, 5, 2), count('client-a', 'https://api.example', 'day', T0, 5, 2)]);
        await state.addUsage([]);
        const hours = await state.readUsage({ granularity: 'hour', since: T0, until: T0 + DAY });
        expect(hours).toEqual([
          { clientId: 'client-a', api: 'https://api.example', granularity: 'hour', start: T0, tokens: 7, refetches: 2 },
          { clientId: 'client-b', api: 'https://api.example', granularity: 'hour', start: T0, tokens: 3, refetches: 1 },
          { clientId: 'client-a', api: 'https://other.example', granularity: 'hour', start: T0 + HOUR, tokens: 1, refetches: 0 },
        ]);
        expect(await state.readUsage({ granularity: 'day', since: T0, until: T0 + DAY })).toEqual([
          { clientId: 'client-a', api: 'https://api.example', granularity: 'day', start: T0, tokens: 7, refetches: 2 },
        ]);
        expect(await state.readUsage({ granularity: 'hour', since: T0, until: T0 + DAY, clientId: 'client-a', api: 'https://other.example' })).toEqual([
          { clientId: 'client-a', api: 'https://other.example', granularity: 'hour', start: T0 + HOUR, tokens: 1, refetches: 0 },
        ]);
        expect((await state.readUsage({ granularity: 'hour', since: T0 + HOUR, until: T0 + 2 * HOUR })).map((bucket) => bucket.start)).toEqual([T0 + HOUR]);
        expect(await state.readUsage({ granularity: 'hour', since: T0, until: T0 + DAY, clientId: 'nobody' })).toEqual([]);
      });

      it('keeps a bucket for its retention, then forgets and purges it', async () => {
        await state.addUsage([
          count('client-a', 'https://api.example', 'hour', T0, 1, 0, 2 * HOUR),
          count('client-a', 'https://api.example', 'day', T0, 1, 0, 3 * DAY),
        ]);
        clock.advance(2 * HOUR - 1);
        expect(await state.readUsage({ granularity: 'hour', since: 0, until: T0 + DAY })).toHaveLength(1);
        clock.advance(1);
        expect(await state.readUsage({ granularity: 'hour', since: 0, until: T0 + DAY })).toEqual([]);
        expect(await state.readUsage({ granularity: 'day', since: 0, until: T0 + DAY })).toHaveLength(1);
        expect(await state.purgeExpired()).toBeGreaterThanOrEqual(1);
        // A count for a bucket already forgotten starts it again from zero.
        await state.addUsage([count('client-a', 'https://api.example', 'hour', T0, 4, 0, 4 * HOUR)]);
        expect((await state.readUsage({ granularity: 'hour', since: 0, until: T0 + DAY }))[0]?.tokens).toBe(4);
        clock.advance(3 * DAY);
        expect(await state.readUsage({ granularity: 'day', since: 0, until: T0 + DAY })).toEqual([]);
      });
    });

    describe('QuotaCounterStore', () => {
      const windows = (hourLimit: number, dayLimit: number) => [
        { key: 'client-a:hour:0', limit: hourLimit, endsAt: T0 + 3_600_000 },
        { key: 'client-a:day:0', limit: dayLimit, endsAt: T0 + 86_400_000 },
      ];

      it('enforced: counts up to the smallest limit, then refuses without counting; the window ending frees it', async () => {
        expect(await state.consumeQuota(windows(2, 3), true)).toEqual({ isCounted: true, used: [1, 1] });
        expect(await state.consumeQuota(windows(2, 3), true)).toEqual({ isCounted: true, used: [2, 2] });
        expect(await state.consumeQuota(windows(2, 3), true)).toEqual({ isCounted: false, used: [2, 2] });
        expect(await state.consumeQuota(windows(2, 3), true)).toEqual({ isCounted: false, used: [2, 2] });
        clock.advance(3_600_000);
        const nextHour = [{ key: 'client-a:hour:1', limit: 2, endsAt: T0 + 7_200_000 }, windows(2, 3)[1]!];
        expect(await state.consumeQuota(nextHour, true)).toEqual({ isCounted: true, used: [1, 3] });
        expect(await state.consumeQuota(nextHour, true)).toEqual({ isCounted: false, used: [1, 3] });
        // Another client's windows are its own.
        expect(await state.consumeQuota([{ key: 'client-b:hour:1', limit: 1, endsAt: T0 + 7_200_000 }], true)).toEqual({ isCounted: true, used: [1] });
      });

      it('counts a batch of tokens at once; enforced, a batch that does not fit is not counted', async () => {
        expect(await state.consumeQuota(windows(10, 100), false, 7)).toEqual({ isCounted: true, used: [7, 7] });
        expect(await state.consumeQuota(windows(10, 100), true, 4)).toEqual({ isCounted: false, used: [7, 7] });
        expect(await state.consumeQuota(windows(10, 100), true, 3)).toEqual({ isCounted: true, used: [10, 10] });
        expect(await state.consumeQuota(windows(10, 100), false, 5)).toEqual({ isCounted: true, used: [15, 15] });
      });

      it('observed: always counts, past the limit too', async () => {
        for (let i = 0; i < 3; i++) await state.consumeQuota(windows(1, 10), false);
        expect(await state.consumeQuota(windows(1, 10), false)).toEqual({ isCounted: true, used: [4, 4] });
        clock.advance(86_400_000);
        expect(await state.consumeQuota(windows(1, 10), false)).toEqual({ isCounted: true, used: [1, 1] });
        expect(await state.purgeExpired()).toBeGreaterThanOrEqual(0);
      });

      it('enforced: concurrent requests never count past the limit', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => state.consumeQuota(windows(5, 100), true)));
        expect(results.filter((result) => result.isCounted)).toHaveLength(5);
      });
    });

    describe('bounds: a flood never evicts an unexpired entry (issue 19)', () => {
      const ALLOWANCE = 20;
      const bounded = async () => {
        const handle = await factory.make(clock, { maxEntries: 30, allowance: { revocations: ALLOWANCE, assertions: ALLOWANCE, opaqueTokens: ALLOWANCE } });
        opened.push(handle);
        return handle;
      };

      it("revocations: client A at its allowance is refused, B's revocation survives and B can still revoke", async () => {
        const small = await bounded();
        await small.revokeToken('victim', T0 + 3_600_000, 'client-b');
        for (let i = 0; i < ALLOWANCE; i++) await small.revokeToken(`flood-${i}`, T0 + 60_000 + i, 'client-a');
        const refused = await small.revokeToken('flood-over', T0 + 60_000, 'client-a').catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(StateCapacityError);
        expect(refused).toMatchObject({ concern: 'revocations', retryAfterMs: 60_000 });
        expect(await small.isTokenRevoked('flood-over')).toBe(false);
        expect(await small.isTokenRevoked('victim')).toBe(true);
        for (let i = 0; i < ALLOWANCE; i++) expect(await small.isTokenRevoked(`flood-${i}`)).toBe(true);
        // Re-revoking one it already holds needs no room; B has its own allowance.
        await small.revokeToken('flood-0', T0 + 120_000, 'client-a');
        await small.revokeToken('victim-2', T0 + 60_000, 'client-b');
        expect(await small.isTokenRevoked('victim-2')).toBe(true);
        // A's first revocations expire: room again for A, and they are purged.
        clock.advance(60_001);
        await small.revokeToken('flood-after', T0 + 3_600_000, 'client-a');
        expect(await small.isTokenRevoked('flood-after')).toBe(true);
        expect(await small.isTokenRevoked('flood-1')).toBe(false);
        expect(await small.isTokenRevoked('victim')).toBe(true);
        expect(await small.purgeExpired()).toBeGreaterThanOrEqual(0);
      });

      it("used assertions: client A at its allowance is refused, B's used assertion is still a replay", async () => {
        const small = await bounded();
        expect(await small.useOnce('b-assertion', T0 + 300_000, 'client-b')).toBe(true);
        for (let i = 0; i < ALLOWANCE; i++) expect(await small.useOnce(`a-${i}`, T0 + 30_000, 'client-a')).toBe(true);
        await expect(small.useOnce('a-over', T0 + 30_000, 'client-a')).rejects.toMatchObject({ concern: 'assertions', retryAfterMs: 30_000 });
        // A refused use left no trace: once there is room it is a first use.
        expect(await small.useOnce('b-assertion', T0 + 300_000, 'client-b')).toBe(false);
        expect(await small.useOnce('a-0', T0 + 30_000, 'client-a')).toBe(false);
        expect(await small.useOnce('b-other', T0 + 300_000, 'client-b')).toBe(true);
        clock.advance(30_000);
        expect(await small.useOnce('a-over', T0 + 60_000, 'client-a')).toBe(true);
        expect(await small.useOnce('b-assertion', T0 + 300_000, 'client-b')).toBe(false);
      });

      it("opaque tokens: client A at its allowance is refused, B's tokens stay active, and a revocation frees A's room", async () => {
        const small = await bounded();
        await small.putOpaqueToken('b-token', 'b', T0 + 3_600_000, 'client-b');
        for (let i = 0; i < ALLOWANCE; i++) await small.putOpaqueToken(`a-${i}`, `a${i}`, T0 + 60_000 + i, 'client-a');
        await expect(small.putOpaqueToken('a-over', 'x', T0 + 60_000, 'client-a')).rejects.toMatchObject({ concern: 'opaqueTokens', retryAfterMs: 60_000 });
        expect(await small.getOpaqueToken('a-over')).toBeUndefined();
        expect(await small.getOpaqueToken('b-token')).toBe('b');
        for (let i = 0; i < ALLOWANCE; i++) expect(await small.getOpaqueToken(`a-${i}`)).toBe(`a${i}`);
        await small.putOpaqueToken('b-other', 'b2', T0 + 60_000, 'client-b');
        // A revoked token no longer counts: A has room for one more.
        expect(await small.deleteOpaqueToken('a-0')).toBe(true);
        await small.putOpaqueToken('a-after-revocation', 'x', T0 + 60_000, 'client-a');
        await expect(small.putOpaqueToken('a-over', 'x', T0 + 60_000, 'client-a')).rejects.toBeInstanceOf(StateCapacityError);
        clock.advance(60_000 + ALLOWANCE);
        await small.putOpaqueToken('a-later', 'x', T0 + 3_600_000, 'client-a');
        expect(await small.getOpaqueToken('a-later')).toBe('x');
        expect(await small.getOpaqueToken('b-token')).toBe('b');
      });

      it('failure counters: a flood of new keys is refused at maxEntries; an existing counter is never reset', async () => {
        const small = await bounded();
        for (let i = 0; i < 5; i++) await small.countAttempt('victim', 120_000);
        let refused: unknown;
        for (let i = 0; i < 100 && !refused; i++)
          refused = await small.countAttempt(`flood-${i}`, 60_000).then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(refused).toMatchObject({ concern: 'attempts', retryAfterMs: 60_000 });
        expect(await small.peekAttempts('victim')).toEqual({ count: 5, expiresAt: T0 + 120_000 });
        expect((await small.countAttempt('victim', 120_000)).count).toBe(6);
        expect(await small.peekAttempts('flood-0')).toEqual({ count: 1, expiresAt: T0 + 60_000 });
        clock.advance(60_000);
        expect((await small.countAttempt('newcomer', 60_000)).count).toBe(1);
        expect((await small.peekAttempts('victim'))?.count).toBe(6);
        expect(await small.purgeExpired()).toBeGreaterThanOrEqual(0);
        expect(await small.peekAttempts('flood-0')).toBeUndefined();
      });

      it('rate-limit buckets: a flood of new keys is refused at maxEntries; an emptied bucket is never refilled by it', async () => {
        const small = await bounded();
        const limit = { capacity: 2, refillPerSecond: 1 / 60 };
        await small.take('victim', limit);
        await small.take('victim', limit);
        let refused: { isAllowed: boolean; retryAfterMs: number } | undefined;
        for (let i = 0; i < 100 && !refused; i++) {
          const result = await small.take(`flood-${i}`, limit);
          if (!result.isAllowed) refused = result;
        }
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect((await small.take('victim', limit)).isAllowed).toBe(false);
        clock.advance(121_000);
        expect((await small.take('newcomer', limit)).isAllowed).toBe(true);
      });
    });

    describe('shared between processes', () => {
      it.skipIf(!factory.openAnother)('a second handle sees revocations, used assertions and counts of the first', async () => {
        const other = await factory.openAnother!(clock);
        opened.push(other);
        await state.revokeToken('shared-jti', T0 + 60_000, 'client-a');
        expect(await other.isTokenRevoked('shared-jti')).toBe(true);
        expect(await state.useOnce('shared-assertion', T0 + 60_000, 'client')).toBe(true);
        expect(await other.useOnce('shared-assertion', T0 + 60_000, 'client')).toBe(false);
        await state.countAttempt('shared-counter', 60_000);
        expect((await other.countAttempt('shared-counter', 60_000)).count).toBe(2);
        await state.putOpaqueToken('shared-opaque', 'claims', T0 + 60_000, 'client-a');
        expect(await other.getOpaqueToken('shared-opaque')).toBe('claims');
        expect(await other.deleteOpaqueToken('shared-opaque')).toBe(true);
        expect(await state.getOpaqueToken('shared-opaque')).toBeUndefined();
      });

      it.skipIf(!factory.openAnother)('usage counts and quota windows are one across processes', async () => {
        const other = await factory.openAnother!(clock);
        opened.push(other);
        const bucket = { clientId: 'client-a', api: 'https://api.example', granularity: 'hour' as const, start: T0, refetches: 0 };
        await state.addUsage([{ ...bucket, tokens: 2, expiresAt: T0 + 86_400_000 }]);
        await other.addUsage([{ ...bucket, tokens: 3, expiresAt: T0 + 86_400_000 }]);
        expect(await state.readUsage({ granularity: 'hour', since: T0, until: T0 + 1 })).toEqual([{ ...bucket, tokens: 5 }]);
        const window = [{ key: 'client-a:hour:0', limit: 3, endsAt: T0 + 3_600_000 }];
        const both = await Promise.all([state, other, state, other, state, other].map((handle) => handle.consumeQuota(window, true)));
        expect(both.filter((result) => result.isCounted)).toHaveLength(3);
      });

      it.skipIf(!factory.openAnother)("a client's allowance is one across processes", async () => {
        const limits = { allowance: { revocations: 3, assertions: 3, opaqueTokens: 3 } };
        const first = await factory.make(clock, limits);
        const second = await factory.openAnother!(clock, limits);
        opened.push(first, second);
        await first.revokeToken('r-1', T0 + 60_000, 'client-a');
        await second.revokeToken('r-2', T0 + 60_000, 'client-a');
        await first.revokeToken('r-3', T0 + 60_000, 'client-a');
        await expect(second.revokeToken('r-4', T0 + 60_000, 'client-a')).rejects.toBeInstanceOf(StateCapacityError);
        await second.revokeToken('r-b', T0 + 60_000, 'client-b');
        expect(await first.isTokenRevoked('r-b')).toBe(true);
        for (const [handle, key] of [
          [first, 'o-1'],
          [second, 'o-2'],
          [first, 'o-3'],
        ] as const)
          await handle.putOpaqueToken(key, 'v', T0 + 60_000, 'client-a');
        await expect(second.putOpaqueToken('o-4', 'v', T0 + 60_000, 'client-a')).rejects.toBeInstanceOf(StateCapacityError);
      });
    });
  });
}
