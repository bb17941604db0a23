import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Storage } from './types.js';
import { createMemoryStorage } from './memory/memory-storage.js';
import { createSqliteStorage, migrateSqliteDatabase } from './sqlite/sqlite-storage.js';

/** Where the data lives, as parsed from a database URL. */
export type DatabaseLocation = { kind: 'memory' } | { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string };

/** Tuning that applies to a networked database; ignored by the embedded adapters. */
export interface DatabasePoolOptions {
  /** Connections per process (PostgreSQL). */
  poolSize?: number;
  /** How long opening a connection may take before it fails. */
  connectTimeoutMs?: number;
  /** Server-side cap on any one statement, so a stuck query cannot hold a connection forever. */
  statementTimeoutMs?: number;
}

export interface OpenStorageOptions extends DatabasePoolOptions {
  /** `sqlite:<path>`, `postgres://…` (or `postgresql://…`), or `memory:`. */
  url: string;
  /** SQLite: how long a writer waits for another process's lock. */
  busyTimeoutMs?: number;
}

/** The older, structured way to name an adapter; kept so callers need not build a URL. */
export type StorageChoice = { kind: 'memory' } | { kind: 'sqlite'; path: string; busyTimeoutMs?: number };

export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

/**
 * One entry point, so the server and the CLI pick an adapter by configuration (one URL), not by
 * import. Adapters for networked databases are imported only when named, so an SQLite install
 * never loads a PostgreSQL driver.
 */
export async function openStorage(options: OpenStorageOptions | StorageChoice): Promise<Storage> {
  if ('kind' in options) return options.kind === 'memory' ? createMemoryStorage() : openSqlite(options.path, options.busyTimeoutMs);
  const location = parseDatabaseUrl(options.url);
  switch (location.kind) {
    case 'memory':
      return createMemoryStorage();
    case 'sqlite':
      return openSqlite(location.path, options.busyTimeoutMs);
    case 'postgres': {
      const { createPostgresStorage } = await import('./postgres/postgres-storage.js');
      return createPostgresStorage({ connectionString: location.connectionString, ...poolOptions(options) });
    }
  }
}

function openSqlite(path: string, busyTimeoutMs: number | undefined): Storage {
  try {
    return createSqliteStorage({ path, ...(busyTimeoutMs ? { busyTimeoutMs } : {}) });
  } catch (cause) {
    throw new StorageAccessError(path, 'open', cause);
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

/** Why there is no database to open: what a command that must not create one reports. */
export type MissingDatabase =
  { kind: 'sqlite'; path: string; directory: string; reason: 'no-directory' | 'not-a-directory' | 'no-file' } | { kind: 'postgres'; url: string };

/**
 * The database is not there and the caller may not create it: opening would have made a new,
 * empty one (a typo in a path, the wrong working directory) that looks like a real registry.
 */
export class DatabaseMissingError extends Error {
  override readonly name = 'DatabaseMissingError';
  constructor(readonly missing: MissingDatabase) {
    super(
      missing.kind === 'postgres'
        ? `the PostgreSQL database ${redactDatabaseUrl(missing.url)} holds no m2m-auth schema`
        : missing.reason === 'no-file'
          ? `no m2m-auth database at ${missing.path}`
          : missing.reason === 'not-a-directory'
            ? `${missing.directory} is not a directory`
            : `no m2m-auth data directory at ${missing.directory}`,
    );
  }
}

/**
 * What is missing for `options` to open an existing database, found without creating anything:
 * the SQLite file (and its directory), or the m2m-auth schema in PostgreSQL. Undefined when the
 * database is there (or is in memory, which is always new).
 */
export async function findMissingDatabase(options: OpenStorageOptions): Promise<MissingDatabase | undefined> {
  const location = parseDatabaseUrl(options.url);
  switch (location.kind) {
    case 'memory':
      return undefined;
    case 'sqlite': {
      if (location.path === ':memory:') return undefined;
      const path = resolve(location.path);
      const directory = dirname(path);
      if (statIfAny(path)) return undefined;
      const parent = statIfAny(directory);
      return { kind: 'sqlite', path, directory, reason: !parent ? 'no-directory' : parent.isDirectory() ? 'no-file' : 'not-a-directory' };
    }
    case 'postgres': {
      const { readPostgresSchemaVersion } = await import('./postgres/postgres-storage.js');
      const version = await readPostgresSchemaVersion({ connectionString: location.connectionString, ...poolOptions(options) });
      return version > 0 ? undefined : { kind: 'postgres', url: options.url };
    }
  }
}

/** The entry at `path`, or undefined when there is none (or a file stands where a directory should). */
function statIfAny(path: string) {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * Brings the database's schema up to date without starting anything else. Opening storage does
 * the same, so this is for running it ahead of a deploy (or from a job with DDL rights).
 */
export async function migrateDatabase(options: OpenStorageOptions): Promise<{ kind: DatabaseLocation['kind']; from: number; to: number }> {
  const location = parseDatabaseUrl(options.url);
  switch (location.kind) {
    case 'memory':
      return { kind: 'memory', from: 0, to: 0 };
    case 'sqlite':
      return { kind: 'sqlite', ...migrateSqliteDatabase({ path: location.path }) };
    case 'postgres': {
      const { migratePostgresDatabase } = await import('./postgres/postgres-storage.js');
      return { kind: 'postgres', ...(await migratePostgresDatabase({ connectionString: location.connectionString, ...poolOptions(options) })) };
    }
  }
}

function poolOptions({ poolSize, connectTimeoutMs, statementTimeoutMs }: DatabasePoolOptions): DatabasePoolOptions {
  return {
    ...(poolSize !== undefined ? { poolSize } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
  };
}

/**
 * `sqlite:relative/path.db`, `sqlite:/absolute/path.db` (also `sqlite:///absolute/path.db`),
 * `sqlite::memory:`, `memory:`, `postgres://user@host:5432/db` or `postgresql://…`.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url === 'memory:') return { kind: 'memory' };
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new DatabaseUrlError(`not a valid PostgreSQL URL: ${redactDatabaseUrl(url)}`);
    }
    return { kind: 'postgres', connectionString: url };
  }
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new DatabaseUrlError('sqlite: URL names no file (e.g. sqlite:./m2m-auth-data/m2m-auth.db)');
    return { kind: 'sqlite', path };
  }
  throw new DatabaseUrlError(`unsupported database URL ${JSON.stringify(redactDatabaseUrl(url))}: use sqlite:<path> or postgres://…`);
}

/** For logs and banners: the password never leaves the process. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * A URL with its credentials left out, for output meant to be read or copied: without the
 * password (in the user part or a `password` query parameter) and, unless `keepUser`, without
 * the user name. Anything that is not a URL is returned as given.
 */
export function urlWithoutCredentials(url: string, options: { keepUser?: boolean } = {}): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactDatabaseUrl(url);
  }
  const hasPasswordParameter = parsed.searchParams.has('password');
  if (!parsed.host || (!parsed.password && !hasPasswordParameter && (options.keepUser || !parsed.username))) return url;
  parsed.password = '';
  if (!options.keepUser) parsed.username = '';
  // Re-encoded only when it must change: URLSearchParams writes spaces as `+`, which a driver may not read back.
  if (hasPasswordParameter) parsed.searchParams.delete('password');
  return parsed.toString().replace(/\?$/, '');
}
