import type { Database } from 'better-sqlite3';
import type { LeaseStore, SecretUsageStore, SecretUse } from '../lifecycle-types.js';

/** The lifecycle contracts on the SQLite database (tables from migration 2, no revision triggers). */
export function createSqliteLifecycleStores(db: Database): SecretUsageStore & LeaseStore {
  const statements = {
    recordUse: db.prepare(
      `INSERT INTO client_secret_usage (secret_id, last_used_at)
       SELECT id, @at FROM client_secrets WHERE id = @secretId AND client_id = @clientId
       ON CONFLICT (secret_id) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at)`,
    ),
    listUsage: db.prepare(
      `SELECT u.secret_id AS secretId, u.last_used_at AS lastUsedAt FROM client_secret_usage u
       JOIN client_secrets s ON s.id = u.secret_id WHERE s.client_id = ? ORDER BY s.created_at`,
    ),
    acquire: db.prepare(
      `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`,
    ),
    release: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
  };
  const recordAll = db.transaction((uses: readonly SecretUse[]) => {
    for (const use of uses) statements.recordUse.run(use);
  });
  return {
    async recordSecretUse(uses) {
      if (uses.length > 0) recordAll.immediate(uses);
    },
    async listSecretUsage(clientId) {
      return statements.listUsage.all(clientId) as { secretId: string; lastUsedAt: number }[];
    },
    async tryAcquireLease(name, holder, expiresAt, now) {
      return statements.acquire.run({ name, holder, expiresAt, now }).changes === 1;
    },
    async releaseLease(name, holder) {
      statements.release.run(name, holder);
    },
  };
}
