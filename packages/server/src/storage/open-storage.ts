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
      try {
        return createSqliteStorage({ path: choice.path, ...(choice.busyTimeoutMs ? { busyTimeoutMs: choice.busyTimeoutMs } : {}) });
      } catch (cause) {
        throw new StorageAccessError(choice.path, 'open', cause);
      }
  }
}

/**
 * The database could not be opened or written at start-up (a read-only or full data directory, a
 * path that is a file, a corrupt file): the message names the database path and the system's own
 * reason, so start-up reports the real cause instead of whatever step happened to run next.
 */
export class StorageAccessError extends Error {
  override readonly name = 'StorageAccessError';
  constructor(
    readonly path: string,
    doing: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | null)?.code;
    super(`cannot ${doing} the database ${path}: ${reason}${typeof code === 'string' && !reason.includes(code) ? ` (${code})` : ''}`, { cause });
  }
}
