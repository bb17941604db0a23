import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { describeSharedStateConformance } from './state-conformance.js';

describeSharedStateConformance('memory', {
  make: async (clock, options) => createMemoryState({ now: clock.now, ...options }),
});
