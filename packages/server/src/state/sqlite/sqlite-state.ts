import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import {
  bucketLifetimeMs,
  byBucket,
  refillBucket,
  stateBounds,
  StateCapacityError,
  type QuotaWindow,
  type SharedState,
  type SharedStateOptions,
  type UsageCount,
} from '../types.js';

export interface SqliteStateOptions extends SharedStateOptions {
  /** `<data-dir>/state.db` by default; `:memory:` for tests. */
  path: string;
  busyTimeoutMs?: number;
}

/** The file next to the main database. */
export const STATE_DATABASE_FILE = 'state.db';

/** The tables of the first two versions (their schema text below is what those versions made). */
const TABLES = ['revoked_tokens', 'used_assertions', 'attempt_counters', 'token_buckets'] as const;
/** Tables of the first two versions whose rows belong to a client and count against its allowance. */
const OWNED_TABLES = ['revoked_tokens', 'used_assertions'] as const;
/** Every table: expired rows of each are swept. */
const ALL_TABLES = [...TABLES, 'opaque_tokens'] as const;
type Table = (typeof ALL_TABLES)[number];
/** Every owned table. */
const ALL_OWNED_TABLES = [...OWNED_TABLES, 'opaque_tokens'] as const;
type OwnedTable = (typeof ALL_OWNED_TABLES)[number];
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS revoked_tokens (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, owner TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS used_assertions (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, owner TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS attempt_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS token_buckets (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ${TABLES.map((table) => `CREATE INDEX IF NOT EXISTS ${table}_by_expiry ON ${table} (expires_at);`).join('\n  ')}
`;
function ownerOf(table: Table, row: 'NEW.' | 'OLD.' | ''): string {
  return (ALL_OWNED_TABLES as readonly Table[]).includes(table) ? `${row}owner` : "''";
}

/** The triggers that keep `entry_counts` exact for one table. */
function countTriggers(table: Table): string {
  return `
  CREATE TRIGGER IF NOT EXISTS ${table}_counted AFTER INSERT ON ${table} BEGIN
    INSERT INTO entry_counts VALUES ('${table}', ${ownerOf(table, 'NEW.')}, 1) ON CONFLICT DO UPDATE SET count = count + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS ${table}_uncounted AFTER DELETE ON ${table} BEGIN
    UPDATE entry_counts SET count = count - 1 WHERE concern = '${table}' AND owner = ${ownerOf(table, 'OLD.')};
    DELETE FROM entry_counts WHERE concern = '${table}' AND owner = ${ownerOf(table, 'OLD.')} AND count <= 0;
  END;`;
}

/**
 * Version 1: revocations and used assertions name their owner, and \`entry_counts\` holds the
 * number of rows per (table, owner) — '' for the unowned tables — kept exact by triggers, so a
 * bound is checked in O(log n) whatever deletes the rows (an operation, the sweep, a purge).
 */
const SCHEMA_V1 = `
  ${OWNED_TABLES.map((table) => `CREATE INDEX IF NOT EXISTS ${table}_by_owner ON ${table} (owner, expires_at);`).join('\n  ')}
  CREATE TABLE IF NOT EXISTS entry_counts (
    concern TEXT NOT NULL, owner TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (concern, owner)
  ) WITHOUT ROWID;
  ${TABLES.map(countTriggers).join('')}
  DELETE FROM entry_counts;
  ${TABLES.map((table) => `INSERT INTO entry_counts SELECT '${table}', ${ownerOf(table, '')}, count(*) FROM ${table} GROUP BY 2;`).join('\n  ')}
  PRAGMA user_version = 1;
`;
/**
 * Version 2: opaque access tokens, each its sealed claims under the token's keyed hash, owned by
 * the token's client and counted against its allowance like a revocation.
 */
const SCHEMA_V2 = `
  CREATE TABLE IF NOT EXISTS opaque_tokens (
    key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, owner TEXT NOT NULL, value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS opaque_tokens_by_expiry ON opaque_tokens (expires_at);
  CREATE INDEX IF NOT EXISTS opaque_tokens_by_owner ON opaque_tokens (owner, expires_at);
  ${countTriggers('opaque_tokens')}
  PRAGMA user_version = 2;
`;
/**
 * Version 3: token usage per client, API, hour and day, and client quota windows. Bounded by the
 * registry (a key is an authenticated client), not by `entry_counts`; they expire like the rest
 * and the sweep takes them with the others.
 */
const UNBOUNDED_TABLES = ['usage_counts', 'quota_counters'] as const;
const SCHEMA_V3 = `
  CREATE TABLE IF NOT EXISTS usage_counts (
    granularity TEXT NOT NULL, start INTEGER NOT NULL, client_id TEXT NOT NULL, api TEXT NOT NULL,
    tokens INTEGER NOT NULL, refetches INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (granularity, start, client_id, api)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS usage_counts_by_expiry ON usage_counts (expires_at);
  CREATE TABLE IF NOT EXISTS quota_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS quota_counters_by_expiry ON quota_counters (expires_at);
  PRAGMA user_version = 3;
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
  const { maxEntries, allowance } = stateBounds(options);
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
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    isRevoked: db.prepare('SELECT 1 FROM revoked_tokens WHERE key = ? AND expires_at > ?').pluck(),
    peekAttempts: db.prepare('SELECT count, expires_at AS expiresAt FROM attempt_counters WHERE key = ? AND expires_at > ?'),
    getBucket: db.prepare('SELECT tokens, updated_at AS updatedAt FROM token_buckets WHERE key = ? AND expires_at > ?'),
    putBucket: db.prepare(
      `INSERT INTO token_buckets (key, tokens, updated_at, expires_at) VALUES (@key, @tokens, @updatedAt, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    ),
    getAttempts: db.prepare('SELECT count, expires_at AS expiresAt FROM attempt_counters WHERE key = ?'),
    putAttempts: db.prepare(
      `INSERT INTO attempt_counters (key, count, expires_at) VALUES (@key, @count, @expiresAt)
       ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at`,
    ),
    countOf: db.prepare('SELECT count FROM entry_counts WHERE concern = ? AND owner = ?').pluck(),
    purge: [...ALL_TABLES, ...UNBOUNDED_TABLES].map((table) => db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`)),
    // An expired bucket still on disk (not swept yet) starts again from this batch's counts.
    addUsage: db.prepare(
      `INSERT INTO usage_counts (granularity, start, client_id, api, tokens, refetches, expires_at)
       VALUES (@granularity, @start, @clientId, @api, @tokens, @refetches, @expiresAt)
       ON CONFLICT DO UPDATE SET
         tokens = CASE WHEN expires_at > @now THEN tokens ELSE 0 END + excluded.tokens,
         refetches = CASE WHEN expires_at > @now THEN refetches ELSE 0 END + excluded.refetches,
         expires_at = CASE WHEN expires_at > @now THEN max(expires_at, excluded.expires_at) ELSE excluded.expires_at END`,
    ),
    readUsage: db.prepare(
      `SELECT granularity, start, client_id AS clientId, api, tokens, refetches FROM usage_counts
       WHERE granularity = @granularity AND start >= @since AND start < @until AND expires_at > @now
         AND (@clientId IS NULL OR client_id = @clientId) AND (@api IS NULL OR api = @api)`,
    ),
    quotaCount: db.prepare('SELECT count FROM quota_counters WHERE key = ? AND expires_at > ?').pluck(),
    putQuota: db.prepare(
      `INSERT INTO quota_counters (key, count, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at`,
    ),
    ...(Object.fromEntries(
      OWNED_TABLES.map((table) => [
        table,
        {
          expiryOf: db.prepare(`SELECT expires_at FROM ${table} WHERE key = ?`).pluck(),
          extend: db.prepare(`UPDATE ${table} SET expires_at = max(expires_at, ?) WHERE key = ?`),
          insert: db.prepare(`INSERT INTO ${table} (key, expires_at, owner) VALUES (?, ?, ?)`),
        },
      ]),
    ) as Record<(typeof OWNED_TABLES)[number], Record<'expiryOf' | 'extend' | 'insert', Statement>>),
    ownedBy: Object.fromEntries(
      ALL_OWNED_TABLES.map((table) => [
        table,
        {
          purgeOwner: db.prepare(`DELETE FROM ${table} WHERE owner = ? AND expires_at <= ?`),
          soonestOfOwner: db.prepare(`SELECT min(expires_at) FROM ${table} WHERE owner = ?`).pluck(),
        },
      ]),
    ) as Record<OwnedTable, Record<'purgeOwner' | 'soonestOfOwner', Statement>>,
    opaque: {
      insert: db.prepare('INSERT INTO opaque_tokens (key, expires_at, owner, value) VALUES (?, ?, ?, ?)'),
      get: db.prepare('SELECT value FROM opaque_tokens WHERE key = ? AND expires_at > ?').pluck(),
      remove: db.prepare('DELETE FROM opaque_tokens WHERE key = ? RETURNING expires_at').pluck(),
    },
    soonest: Object.fromEntries(ALL_TABLES.map((table) => [table, db.prepare(`SELECT min(expires_at) FROM ${table}`).pluck()])) as Record<Table, Statement>,
    removeKey: Object.fromEntries(ALL_TABLES.map((table) => [table, db.prepare(`DELETE FROM ${table} WHERE key = ?`)])) as Record<Table, Statement>,
  };

  /**
   * Milliseconds until room, or 0 when the bound has room now: one owner's rows in an owned table,
   * the whole table in the others. Full: the expired rows of that bound go first; nothing
   * unexpired is ever dropped.
   */
  function roomFor(bound: { table: OwnedTable; owner: string } | { table: Table; owner?: undefined }, limit: number, at: number): number {
    const { table, owner } = bound;
    const count = () => (statements.countOf.get(table, owner ?? '') as number | undefined) ?? 0;
    if (count() < limit) return 0;
    if (bound.owner === undefined) statements.purge[ALL_TABLES.indexOf(table)]!.run(at);
    else statements.ownedBy[bound.table].purgeOwner.run(bound.owner, at);
    if (count() < limit) return 0;
    const soonest = (bound.owner === undefined ? statements.soonest[table].get() : statements.ownedBy[bound.table].soonestOfOwner.get(bound.owner)) as number;
    return Math.max(1, soonest - at);
  }

  /** Adds an owned record, or keeps the later expiry of a live one; returns ms until room when the owner is full. */
  const record = db.transaction(
    (table: (typeof OWNED_TABLES)[number], key: string, expiresAt: number, owner: string, limit: number, isReplayCheck: boolean) => {
      const at = now();
      const own = statements[table];
      const existing = own.expiryOf.get(key) as number | undefined;
      if (existing !== undefined && existing > at) {
        if (isReplayCheck) return { isNew: false, retryAfterMs: 0 };
        own.extend.run(expiresAt, key);
        return { isNew: false, retryAfterMs: 0 };
      }
      if (existing !== undefined) statements.removeKey[table].run(key);
      const retryAfterMs = roomFor({ table, owner }, limit, at);
      if (retryAfterMs > 0) return { isNew: false, retryAfterMs };
      own.insert.run(key, expiresAt, owner);
      return { isNew: true, retryAfterMs: 0 };
    },
  );

  /** Stores an opaque token; returns ms until room when its client is at its allowance, else 0. */
  const putOpaque = db.transaction((key: string, value: string, expiresAt: number, owner: string) => {
    const at = now();
    // A new token never meets a live key (keys are hashes of 256 random bits): a clash replaces.
    statements.removeKey.opaque_tokens.run(key);
    const retryAfterMs = roomFor({ table: 'opaque_tokens', owner }, allowance.opaqueTokens, at);
    if (retryAfterMs > 0) return retryAfterMs;
    statements.opaque.insert.run(key, expiresAt, owner, value);
    return 0;
  });

  const countAttempt = db.transaction((key: string, ttlMs: number) => {
    const at = now();
    const row = statements.getAttempts.get(key) as { count: number; expiresAt: number } | undefined;
    const isLive = row !== undefined && row.expiresAt > at;
    if (!isLive) {
      if (row) statements.removeKey.attempt_counters.run(key);
      const retryAfterMs = roomFor({ table: 'attempt_counters' }, maxEntries, at);
      if (retryAfterMs > 0) return { retryAfterMs };
    }
    const next = { count: isLive ? row.count + 1 : 1, expiresAt: at + ttlMs };
    statements.putAttempts.run({ key, ...next });
    return next;
  });

  const take = db.transaction((key: string, capacity: number, refillPerSecond: number) => {
    const at = now();
    const limit = { capacity, refillPerSecond };
    const bucket = statements.getBucket.get(key, at) as { tokens: number; updatedAt: number } | undefined;
    if (!bucket) {
      statements.removeKey.token_buckets.run(key);
      const retryAfterMs = roomFor({ table: 'token_buckets' }, maxEntries, at);
      if (retryAfterMs > 0) return { isAllowed: false, retryAfterMs };
    }
    const result = refillBucket(bucket, limit, at);
    statements.putBucket.run({ key, tokens: result.tokens, updatedAt: at, expiresAt: at + bucketLifetimeMs(result.tokens, limit) });
    return { isAllowed: result.isAllowed, retryAfterMs: result.retryAfterMs };
  });

  const addUsage = db.transaction((counts: readonly (UsageCount & { expiresAt: number })[], at: number) => {
    for (const count of counts) statements.addUsage.run({ ...count, now: at });
  });

  /** One IMMEDIATE transaction: two processes counting against the same window see each other's count. */
  const consumeQuota = db.transaction((windows: readonly QuotaWindow[], isEnforced: boolean, tokens: number) => {
    const at = now();
    const used = windows.map((window) => (statements.quotaCount.get(window.key, at) as number | undefined) ?? 0);
    if (isEnforced && windows.some((window, index) => used[index]! + tokens > window.limit)) return { isCounted: false, used };
    windows.forEach((window, index) => statements.putQuota.run(window.key, (used[index] = used[index]! + tokens), window.endsAt));
    return { isCounted: true, used };
  });

  function purgeExpired(): number {
    const at = now();
    return statements.purge.reduce((dropped, statement) => dropped + statement.run(at).changes, 0);
  }

  let writes = 0;
  function wrote() {
    if (++writes % WRITES_PER_SWEEP === 0) purgeExpired();
  }

  return {
    kind: 'sqlite',
    async revokeToken(jti, expiresAt, owner) {
      if (expiresAt <= now()) return;
      const { retryAfterMs } = record.immediate('revoked_tokens', jti, expiresAt, owner, allowance.revocations, false);
      if (retryAfterMs > 0) throw new StateCapacityError('revocations', retryAfterMs);
      wrote();
    },
    async isTokenRevoked(jti) {
      return statements.isRevoked.get(jti, now()) !== undefined;
    },
    async useOnce(key, expiresAt, owner) {
      // One IMMEDIATE transaction: two processes racing on the same assertion see one new row between them.
      const { isNew, retryAfterMs } = record.immediate('used_assertions', key, expiresAt, owner, allowance.assertions, true);
      if (retryAfterMs > 0) throw new StateCapacityError('assertions', retryAfterMs);
      wrote();
      return isNew;
    },
    async putOpaqueToken(key, value, expiresAt, owner) {
      if (expiresAt <= now()) return;
      const retryAfterMs = putOpaque.immediate(key, value, expiresAt, owner);
      if (retryAfterMs > 0) throw new StateCapacityError('opaqueTokens', retryAfterMs);
      wrote();
    },
    async getOpaqueToken(key) {
      return statements.opaque.get.get(key, now()) as string | undefined;
    },
    async deleteOpaqueToken(key) {
      const expiresAt = statements.opaque.remove.get(key) as number | undefined;
      return expiresAt !== undefined && expiresAt > now();
    },
    async countAttempt(key, ttlMs) {
      const result = countAttempt.immediate(key, ttlMs);
      if ('retryAfterMs' in result) throw new StateCapacityError('attempts', result.retryAfterMs);
      wrote();
      return result;
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
    async addUsage(counts) {
      if (counts.length === 0) return;
      addUsage.immediate(counts, now());
      wrote();
    },
    async readUsage(query) {
      const rows = statements.readUsage.all({ ...query, clientId: query.clientId ?? null, api: query.api ?? null, now: now() }) as UsageCount[];
      return rows.sort(byBucket);
    },
    async consumeQuota(windows, isEnforced, tokens = 1) {
      const result = consumeQuota.immediate(windows, isEnforced, tokens);
      if (result.isCounted) wrote();
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

/**
 * Brings a state file of any earlier version to the current schema in one IMMEDIATE transaction,
 * so workers starting together migrate it once. Version 0 files keep their revocations and used
 * assertions (owner '': counted against nobody, they expire as before).
 */
function migrate(db: Database) {
  db.transaction(() => {
    db.exec(SCHEMA);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1) {
      for (const table of OWNED_TABLES) {
        const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
        if (!columns.includes('owner')) db.exec(`ALTER TABLE ${table} ADD COLUMN owner TEXT NOT NULL DEFAULT ''`);
      }
      db.exec(SCHEMA_V1);
    }
    if (version < 2) db.exec(SCHEMA_V2);
    if (version < 3) db.exec(SCHEMA_V3);
  }).immediate();
}
