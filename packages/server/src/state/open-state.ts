import { join } from 'node:path';
import type { SharedState, StateLimits } from './types.js';
import { createMemoryState } from './memory/memory-state.js';
import { createSqliteState, STATE_DATABASE_FILE } from './sqlite/sqlite-state.js';
import { createRedisState } from './redis/redis-state.js';
import { createResilientState } from './resilient-state.js';

export type StateChoice = { kind: 'memory' } | { kind: 'sqlite'; dataDir: string } | { kind: 'redis'; url: string };

/**
 * The shared state that goes with a storage choice: memory with memory, `<data-dir>/state.db` with
 * SQLite (the workers of one host), Redis when given (every instance on every host). Redis is a
 * network away, so it comes wrapped in its outage policy (resilient-state.ts); `?keyPrefix=` in
 * its URL namespaces every key (ioredis reads it from the URL). `limits` bound each store (types.ts).
 */
export function openSharedState(choice: StateChoice, now: () => number, limits: StateLimits = {}): SharedState {
  switch (choice.kind) {
    case 'memory':
      return createMemoryState({ now, ...limits });
    case 'sqlite':
      return createSqliteState({ path: join(choice.dataDir, STATE_DATABASE_FILE), now, ...limits });
    case 'redis':
      return createResilientState({ shared: createRedisState({ url: choice.url, now, ...limits }), local: createMemoryState({ now, ...limits }) });
  }
}
