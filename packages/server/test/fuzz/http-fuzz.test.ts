import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript, so `npm run fuzz` runs it without a build step of its own
import { runFuzz } from './http-fuzz.js';
import { availableStacks } from '../helpers/stacks.js';

/**
 * A short run of the HTTP fuzzer on each storage + shared-state stack CI has (the full
 * 100,000-request run is `npm run fuzz -- --stack sqlite|postgres`): a defect in one adapter only
 * — PostgreSQL refusing a NUL byte that SQLite stores — is found only where the fuzzer runs.
 */
const FUZZ_STACK: Record<string, string> = { sqlite: 'sqlite', 'postgres+redis': 'postgres' };
const stacks = await availableStacks();

describe.each(stacks)('HTTP fuzzer, short run on $name', ({ name }) => {
  it('3,000 malformed and mutated requests, admin API and odd credentials included: no 5xx, no crash, no hang, nothing echoed', async () => {
    // A new seed each run widens what the suite covers over time; a failure names its seed.
    const seed = Date.now() % 100_000;
    const stack = FUZZ_STACK[name];
    const summary = await runFuzz({ requests: 3000, seed, concurrency: 8, stack, log: () => undefined });
    expect(summary.failures, `npm run fuzz -- --stack ${stack} --requests 3000 --seed ${seed}`).toEqual([]);
    expect(summary.fiveXX).toBe(0);
    expect(summary.requests).toBe(3000);
  }, 180_000);
});
