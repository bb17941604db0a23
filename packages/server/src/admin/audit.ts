import type { AuditEventRecord } from '../storage/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { decodeCursor, encodeCursor, validateLimit, type ListOptions, type Page } from './paging.js';
import type { AdminContext } from './admin-context.js';

export interface AuditEventFilter {
  type?: string;
  actor?: string;
  /** Inclusive, epoch ms. */
  since?: number;
  /** Exclusive, epoch ms. */
  until?: number;
}

export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

export interface AuditOperations {
  /** Newest first. */
  listAuditEvents(options?: AuditEventFilter & ListOptions): Promise<Page<AuditEventRecord>>;
  /** Deletes events older than the retention; returns how many went. */
  pruneAuditEvents(retentionDays?: number): Promise<number>;
}

export function createAuditOperations({ deps }: AdminContext): AuditOperations {
  const { storage, now } = deps;
  return {
    async listAuditEvents(options = {}) {
      const limit = validateLimit(options.limit);
      const before = decodeCursor(options.cursor);
      for (const bound of ['since', 'until'] as const) {
        const value = options[bound];
        if (value !== undefined && !Number.isSafeInteger(value)) throw validationFailed(bound, `${bound} must be a time (ISO 8601 or epoch milliseconds)`);
      }
      const events = await storage.listAuditEvents({
        limit: limit + 1,
        ...(options.type !== undefined ? { type: options.type } : {}),
        ...(options.actor !== undefined ? { actor: options.actor } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(before ? { before: { at: before[0], id: before[1] } } : {}),
      });
      const items = events.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: events.length > limit && last ? encodeCursor([last.at, last.id]) : null };
    },

    async pruneAuditEvents(retentionDays = DEFAULT_AUDIT_RETENTION_DAYS) {
      if (!Number.isInteger(retentionDays) || retentionDays < 1)
        throw validationFailed('retentionDays', 'audit retention must be a whole number of days, at least 1');
      return storage.pruneAuditEvents(now() - retentionDays * DAY_MS);
    },
  };
}
