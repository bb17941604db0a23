import { expect, it } from 'vitest';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { describeSharedStateConformance } from './state-conformance.js';

describeSharedStateConformance('memory', {
  make: async (clock, options) => createMemoryState({ now: clock.now, ...options }),
});

it('a full bound emptied by a purge scans again once it is full again (no refusal for ever)', async () => {
  let at = 0;
  const state = createMemoryState({ now: () => at, maxEntries: 2 });
  await state.countAttempt('a', 1000);
  await state.countAttempt('b', 1000);
  at = 1000; // both expired: the next newcomer purges them
  await state.countAttempt('c', 1000);
  await state.countAttempt('d', 1000);
  await expect(state.countAttempt('e', 1000)).rejects.toMatchObject({ concern: 'attempts', retryAfterMs: 1000 });
  at = 2000;
  expect((await state.countAttempt('e', 1000)).count).toBe(1);
});
