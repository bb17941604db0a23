import { describe, expect, it } from 'vitest';
import { createUsageRecorder } from '../../src/usage/usage-recorder.js';
import { createRefetchDetector } from '../../src/usage/refetch-detector.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { usageRetention } from '../../src/usage/usage-windows.js';
import type { UsageCounterStore } from '../../src/state/types.js';

const T0 = Date.UTC(2026, 0, 1, 23, 30);
const HOUR = 3_600_000;

describe('usage recorder: counted in memory, written in batches', () => {
  it('one write per flush with the hour and the day of each (client, API); an hour crossing midnight lands in two days', async () => {
    let at = T0;
    const state = createMemoryState({ now: () => at });
    const batches: number[] = [];
    const store: UsageCounterStore = { addUsage: (counts) => (batches.push(counts.length), state.addUsage(counts)), readUsage: state.readUsage };
    const recorder = createUsageRecorder({ store, retention: usageRetention(35), flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 5; i++) recorder.record('client-a', 'https://api.example', i > 0, at);
    recorder.record('client-b', 'https://api.example', false, at);
    at += HOUR; // 00:30 the next day
    recorder.record('client-a', 'https://api.example', false, at);
    expect(batches).toEqual([]);
    await recorder.flush();
    // 3 hours (a 23:00, b 23:00, a 00:00) and 3 days (a 1st, b 1st, a 2nd), in one write.
    expect(batches).toEqual([6]);
    const days = await state.readUsage({ granularity: 'day', since: 0, until: T0 + 2 * 86_400_000 });
    expect(days.map(({ clientId, start, tokens, refetches }) => [clientId, new Date(start).toISOString().slice(0, 10), tokens, refetches])).toEqual([
      ['client-a', '2026-01-01', 5, 4],
      ['client-b', '2026-01-01', 1, 0],
      ['client-a', '2026-01-02', 1, 0],
    ]);
    expect(recorder.stats()).toEqual({ recorded: 7, lost: { pendingFull: 0, sharedState: 0 }, pendingKeys: 0 });
    await recorder.flush();
    expect(batches).toEqual([6]);
    await recorder.close();
  });

  it('bounded: past maxPendingKeys a new (client, API, hour) is not counted but reported lost; a refused batch is lost once, reported once', async () => {
    const errors: unknown[] = [];
    let recovered = 0;
    let isDown = false;
    const state = createMemoryState({ now: () => T0 });
    const store: UsageCounterStore = {
      addUsage: async (counts) => {
        if (isDown) throw new Error('shared state away');
        return state.addUsage(counts);
      },
      readUsage: state.readUsage,
    };
    const recorder = createUsageRecorder({
      store,
      retention: usageRetention(),
      flushIntervalMs: 3_600_000,
      maxPendingKeys: 2,
      onLost: (error) => errors.push(error),
      onRecovered: () => (recovered += 1),
    });
    recorder.record('a', 'api', false, T0);
    recorder.record('b', 'api', false, T0);
    recorder.record('c', 'api', false, T0);
    recorder.record('a', 'api', false, T0);
    expect(recorder.stats()).toMatchObject({ lost: { pendingFull: 1, sharedState: 0 }, pendingKeys: 2 });
    isDown = true;
    await recorder.flush();
    recorder.record('a', 'api', false, T0);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(recorder.stats()).toEqual({ recorded: 0, lost: { pendingFull: 1, sharedState: 4 }, pendingKeys: 0 });
    isDown = false;
    recorder.record('a', 'api', false, T0);
    await recorder.flush();
    expect(recovered).toBe(1);
    expect(recorder.stats().recorded).toBe(1);
    await recorder.close();
  });
});

describe('refetch detector', () => {
  it('a token for the same client, audience and scope while the previous one has more than half its life left is a refetch', () => {
    let at = T0;
    const detector = createRefetchDetector({ now: () => at, maxEntries: 2 });
    const token = { clientId: 'a', audience: 'https://api.example', scope: 'read', expiresIn: 600 };
    expect(detector.observe(token, at)).toBe(false);
    at += 60_000;
    expect(detector.observe(token, at)).toBe(true);
    expect(detector.isRefetching('a')).toBe(true);
    // Another scope is another token; past half its life a new token is a normal renewal.
    expect(detector.observe({ ...token, scope: 'write' }, at)).toBe(false);
    at += 301_000;
    expect(detector.observe(token, at)).toBe(false);
    // Bounded (2 triples here): a new client pushes out the client seen first, with all it tracked;
    // its next token is then not called a refetch (a miss, never a false alarm).
    expect(detector.observe({ ...token, clientId: 'b' }, at)).toBe(false);
    at += 10_000;
    expect(detector.observe(token, at)).toBe(false);
    expect(detector.observe({ ...token, clientId: 'b' }, at)).toBe(true);
    at += 3_600_000;
    expect(detector.isRefetching('a')).toBe(false);
  });
});
