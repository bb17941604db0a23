import { join } from 'node:path';
import type { SharedState } from './types.js';
import { createMemoryState } from './memory/memory-state.js';
import { createSqliteState, STATE_DATABASE_FILE } from './sqlite/sqlite-state.js';
import { createRedisState } from './redis/redis-state.js';

export type StateChoice = { kind: 'memory' } | { kind: 'sqlite'; dataDir: string } | { kind: 'redis'; url: string };

/**
 * The shared state that goes with a storage choice: memory with memory, `<data-dir>/state.db` with
 * SQLite (the workers of one host), Redis when given (every instance on every host).
 */
export function openSharedState(choice: StateChoice, now: () => number): SharedState {
  switch (choice.kind) {
    case 'memory':
      return createMemoryState({ now });
    case 'sqlite':
      return createSqliteState({ path: join(choice.dataDir, STATE_DATABASE_FILE), now });
    case 'redis':
      return createRedisState({ url: choice.url, now });
  }
}
