import type { Storage } from './types.js';
import { createMemoryStorage } from './memory/memory-storage.js';
import { createSqliteStorage } from './sqlite/sqlite-storage.js';

export type StorageChoice = { kind: 'memory' } | { kind: 'sqlite'; path: string; busyTimeoutMs?: number };

/** One entry point, so the server and the CLI pick an adapter by configuration, not by import. */
export async function openStorage(choice: StorageChoice): Promise<Storage> {
  switch (choice.kind) {
    case 'memory':
      return createMemoryStorage();
    case 'sqlite':
      return createSqliteStorage({ path: choice.path, ...(choice.busyTimeoutMs ? { busyTimeoutMs: choice.busyTimeoutMs } : {}) });
  }
}
