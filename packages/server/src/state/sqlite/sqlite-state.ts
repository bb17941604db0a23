import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { bucketLifetimeMs, DEFAULT_MAX_STATE_ENTRIES, refillBucket, type SharedState, type SharedStateOptions } from '../types.js';

export interface SqliteStateOptions extends SharedStateOptions {
  /** `<data-dir>/state.db` by default; `:memory:` for tests. */
  path: string;
  busyTimeoutMs?: number;
}

/** The file next to the main database. */
export const STATE_DATABASE_FILE = 'state.db';

const TABLES = ['revoked_tokens', 'used_assertions', 'attempt_counters', 'token_buckets'] as const;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS revoked_tokens (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS used_assertions (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS attempt_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS token_buckets (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ${TABLES.map((table) => `CREATE INDEX IF NOT EXISTS ${table}_by_expiry ON ${table} (expires_at);`).join('\n  ')}
`;
/** Expired rows are swept after this many writes, so no timer is needed and idle costs nothing. */
const WRITES_PER_SWEEP = 512;

/**
 * The embedded shared state: its own SQLite file in the data directory (WAL), so every worker of
 * `serve --workers N` and every restart of the host see the same facts. A separate file from the
 * registry database because these rows are hot, disposable and expire by themselves: writing
 * them must not bump the registry revision (which makes every worker reload its caches), queue
 * behind an operator's CLI write, or bloat the database operators back up. Each operation is one
 * statement (or one IMMEDIATE transaction), hence atomic across processes.
 */
export function createSqliteState(options: SqliteStateOptions): SharedState {
  const { now } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_STATE_ENTRIES;
  if (options.path !== ':memory:') {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    closeSync(openSync(options.path, 'a', 0o600));
  }
  const db = new BetterSqlite3(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // Losing the last moments of counters in a power cut is acceptable; an fsync per failure is not.
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    revoke: db.prepare(
      `INSERT INTO revoked_tokens (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    isRevoked: db.prepare('SELECT 1 FROM revoked_tokens WHERE key = ? AND expires_at > ?').pluck(),
    // The conflict branch only fires for an expired row: one statement, so two processes racing
    // on the same assertion see exactly one change between them.
    useOnce: db.prepare(
      `INSERT INTO used_assertions (key, expires_at) VALUES (@key, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_assertions.expires_at <= @now`,
    ),
    countAttempt: db.prepare(
      `INSERT INTO attempt_counters (key, count, expires_at) VALUES (@key, 1, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET count = CASE WHEN attempt_counters.expires_at <= @now THEN 1 ELSE attempt_counters.count + 1 END,
       expires_at = excluded.expires_at
       RETURNING count, expires_at AS expiresAt`,
    ),
    peekAttempts: db.prepare('SELECT count, expires_at AS expiresAt FROM attempt_counters WHERE key = ? AND expires_at > ?'),
    getBucket: db.prepare('SELECT tokens, updated_at AS updatedAt FROM token_buckets WHERE key = ? AND expires_at > ?'),
    putBucket: db.prepare(
      `INSERT INTO token_buckets (key, tokens, updated_at, expires_at) VALUES (@key, @tokens, @updatedAt, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    ),
    purge: TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`)),
    count: TABLES.map((table) => db.prepare(`SELECT count(*) FROM ${table}`).pluck()),
    // Over the bound even after purging: drop the entries closest to expiry.
    trim: TABLES.map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} ORDER BY expires_at LIMIT ?)`),
    ),
  };

  const take = db.transaction((key: string, capacity: number, refillPerSecond: number) => {
    const at = now();
    const limit = { capacity, refillPerSecond };
    const result = refillBucket(statements.getBucket.get(key, at) as { tokens: number; updatedAt: number } | undefined, limit, at);
    statements.putBucket.run({ key, tokens: result.tokens, updatedAt: at, expiresAt: at + bucketLifetimeMs(result.tokens, limit) });
    return { isAllowed: result.isAllowed, retryAfterMs: result.retryAfterMs };
  });

  function purgeExpired(): number {
    const at = now();
    let dropped = 0;
    for (const [index, statement] of statements.purge.entries()) {
      dropped += statement.run(at).changes;
      const excess = (statements.count[index]!.get() as number) - maxEntries;
      if (excess > 0) dropped += statements.trim[index]!.run(excess + Math.floor(maxEntries / 10)).changes;
    }
    return dropped;
  }

  let writes = 0;
  function wrote() {
    if (++writes % WRITES_PER_SWEEP === 0) purgeExpired();
  }

  return {
    kind: 'sqlite',
    async revokeToken(jti, expiresAt) {
      if (expiresAt <= now()) return;
      statements.revoke.run(jti, expiresAt);
      wrote();
    },
    async isTokenRevoked(jti) {
      return statements.isRevoked.get(jti, now()) !== undefined;
    },
    async useOnce(key, expiresAt) {
      const accepted = statements.useOnce.run({ key, expiresAt, now: now() }).changes === 1;
      wrote();
      return accepted;
    },
    async countAttempt(key, ttlMs) {
      const at = now();
      const row = statements.countAttempt.get({ key, expiresAt: at + ttlMs, now: at }) as { count: number; expiresAt: number };
      wrote();
      return { count: row.count, expiresAt: row.expiresAt };
    },
    async peekAttempts(key) {
      const row = statements.peekAttempts.get(key, now()) as { count: number; expiresAt: number } | undefined;
      return row && { count: row.count, expiresAt: row.expiresAt };
    },
    async take(key, limit) {
      const result = take.immediate(key, limit.capacity, limit.refillPerSecond);
      wrote();
      return result;
    },
    async purgeExpired() {
      return purgeExpired();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
