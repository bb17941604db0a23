/**
 * Storage contracts added for the token and key lifecycle (issue 13). Kept apart from `types.ts`
 * so the core contracts stay readable; `Storage` includes both.
 */

export interface SecretUse {
  clientId: string;
  secretId: string;
  at: number;
}

/**
 * When each client secret last authenticated. Written in batches (see secrets/secret-usage.ts),
 * never once per token, and without moving the registry revision: a use changes no behaviour.
 */
export interface SecretUsageStore {
  /** Keeps, per secret, the latest `at`; uses of secrets that no longer exist are ignored. */
  recordSecretUse(uses: readonly SecretUse[]): Promise<void>;
  listSecretUsage(clientId: string): Promise<{ secretId: string; lastUsedAt: number }[]>;
}

/**
 * A named lease with compare-and-set semantics: at most one holder at a time, until it expires.
 * Used so that one process among many workers and hosts performs a scheduled key rotation. In
 * SQL it is one conditional upsert (`… ON CONFLICT DO UPDATE … WHERE holder = ? OR expires_at <= ?`),
 * which holds on PostgreSQL across hosts just as on SQLite across processes.
 */
export interface LeaseStore {
  /** Takes or renews the lease; true when `holder` holds it until `expiresAt` afterwards. */
  tryAcquireLease(name: string, holder: string, expiresAt: number, now: number): Promise<boolean>;
  /** Gives the lease up, only if `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
}
