import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharedState } from '../../src/state/types.js';

export interface StateClock {
  now: () => number;
  advance(ms: number): void;
}

export interface StateAdapterFactory {
  /** A fresh, empty state whose clock is `clock.now`; `maxEntries` bounds each concern. */
  make(clock: StateClock, options?: { maxEntries?: number }): Promise<SharedState>;
  /**
   * A second handle on the same state, as another worker process would open it; adapters that
   * cannot be shared (memory) leave it out and skip the cross-process cases.
   */
  openAnother?(clock: StateClock): Promise<SharedState>;
}

/**
 * The one behavioural contract of the shared-state adapters (memory, SQLite, later Redis): an
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
        await state.revokeToken('jti-1', T0 + 60_000);
        expect(await state.isTokenRevoked('jti-1')).toBe(true);
        expect(await state.isTokenRevoked('jti-2')).toBe(false);
        clock.advance(60_000);
        expect(await state.isTokenRevoked('jti-1')).toBe(false);
        expect(await state.purgeExpired()).toBeGreaterThanOrEqual(0);
      });

      it('ignores revoking an already expired token, and revoking twice keeps the later expiry', async () => {
        await state.revokeToken('old', T0 - 1);
        expect(await state.isTokenRevoked('old')).toBe(false);
        await state.revokeToken('twice', T0 + 10_000);
        await state.revokeToken('twice', T0 + 5_000);
        clock.advance(7_000);
        expect(await state.isTokenRevoked('twice')).toBe(true);
      });
    });

    describe('AssertionReplayStore', () => {
      it('accepts an id once until it expires, then again', async () => {
        expect(await state.useOnce('client\njti', T0 + 30_000)).toBe(true);
        expect(await state.useOnce('client\njti', T0 + 30_000)).toBe(false);
        expect(await state.useOnce('client\nother', T0 + 30_000)).toBe(true);
        clock.advance(30_000);
        expect(await state.useOnce('client\njti', T0 + 60_000)).toBe(true);
      });

      it('accepts one of many concurrent uses of the same id', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => state.useOnce('race', T0 + 1000)));
        expect(results.filter(Boolean)).toHaveLength(1);
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

    describe('bounds', () => {
      it('a flood of new keys stays bounded, and expired entries are purged', async () => {
        const small = await factory.make(clock, { maxEntries: 50 });
        opened.push(small);
        for (let i = 0; i < 2000; i++) await small.countAttempt(`flood-${i}`, 60_000);
        // Recent keys still count; the bound holds (checked through what survives).
        expect((await small.countAttempt('flood-1999', 60_000)).count).toBe(2);
        let surviving = 0;
        for (let i = 0; i < 2000; i++) if (await small.peekAttempts(`flood-${i}`)) surviving += 1;
        expect(surviving).toBeLessThanOrEqual(50 + 512);
        clock.advance(60_001);
        await small.purgeExpired();
        expect(await small.peekAttempts('flood-1999')).toBeUndefined();
      });
    });

    describe('shared between processes', () => {
      it.skipIf(!factory.openAnother)('a second handle sees revocations, used assertions and counts of the first', async () => {
        const other = await factory.openAnother!(clock);
        opened.push(other);
        await state.revokeToken('shared-jti', T0 + 60_000);
        expect(await other.isTokenRevoked('shared-jti')).toBe(true);
        expect(await state.useOnce('shared-assertion', T0 + 60_000)).toBe(true);
        expect(await other.useOnce('shared-assertion', T0 + 60_000)).toBe(false);
        await state.countAttempt('shared-counter', 60_000);
        expect((await other.countAttempt('shared-counter', 60_000)).count).toBe(2);
      });
    });
  });
}
