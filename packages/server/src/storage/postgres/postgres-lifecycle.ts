import type pg from 'pg';
import type { LeaseStore, SecretUsageStore } from '../lifecycle-types.js';

/** The lifecycle contracts on PostgreSQL: each a single statement, so instances never race. */
export function createPostgresLifecycleStores(pool: Pick<pg.Pool, 'query'>): SecretUsageStore & LeaseStore {
  return {
    async recordSecretUse(uses) {
      if (uses.length === 0) return;
      // One statement for the batch; uses of secrets that no longer exist match no row and vanish.
      await pool.query(
        `INSERT INTO client_secret_usage (secret_id, last_used_at)
         SELECT s.id, max(u.at) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u (client_id, secret_id, at)
         JOIN client_secrets s ON s.id = u.secret_id AND s.client_id = u.client_id GROUP BY s.id
         ON CONFLICT (secret_id) DO UPDATE SET last_used_at = GREATEST(client_secret_usage.last_used_at, excluded.last_used_at)`,
        [uses.map((use) => use.clientId), uses.map((use) => use.secretId), uses.map((use) => use.at)],
      );
    },
    async listSecretUsage(clientId) {
      const { rows } = await pool.query(
        `SELECT u.secret_id AS "secretId", u.last_used_at AS "lastUsedAt" FROM client_secret_usage u
         JOIN client_secrets s ON s.id = u.secret_id WHERE s.client_id = $1 ORDER BY s.created_at, s.id`,
        [clientId],
      );
      return rows as { secretId: string; lastUsedAt: number }[];
    },
    async tryAcquireLease(name, holder, expiresAt, now) {
      const { rowCount } = await pool.query(
        `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
        [name, holder, expiresAt, now],
      );
      return rowCount === 1;
    },
    async releaseLease(name, holder) {
      await pool.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
    },
  };
}
