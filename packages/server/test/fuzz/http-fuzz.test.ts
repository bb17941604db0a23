import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript, so `npm run fuzz` runs it without a build step of its own
import { runFuzz } from './http-fuzz.js';

/** A short run of the HTTP fuzzer (the full 100,000-request run is `npm run fuzz`). */
describe('HTTP fuzzer, short run', () => {
  it('3,000 malformed and mutated requests: no 5xx, no crash, no hang, nothing echoed', async () => {
    // A new seed each run widens what the suite covers over time; a failure names its seed.
    const seed = Date.now() % 100_000;
    const summary = await runFuzz({ requests: 3000, seed, concurrency: 8, log: () => undefined });
    expect(summary.failures, `npm run fuzz -- --requests 3000 --seed ${seed}`).toEqual([]);
    expect(summary.fiveXX).toBe(0);
    expect(summary.requests).toBe(3000);
  }, 180_000);
});
