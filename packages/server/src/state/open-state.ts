import { join } from 'node:path';
import type { SharedState } from './types.js';
import { createMemoryState } from './memory/memory-state.js';
import { createSqliteState, STATE_DATABASE_FILE } from './sqlite/sqlite-state.js';

export type StateChoice = { kind: 'memory' } | { kind: 'sqlite'; dataDir: string };

/** The shared state that goes with a storage choice: memory with memory, `<data-dir>/state.db` with SQLite. */
export function openSharedState(choice: StateChoice, now: () => number): SharedState {
  return choice.kind === 'memory' ? createMemoryState({ now }) : createSqliteState({ path: join(choice.dataDir, STATE_DATABASE_FILE), now });
}
