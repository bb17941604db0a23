import type { EndpointEventBus } from '../protocol/endpoint-events.js';
import { toOAuthResponse } from '../errors/to-oauth-response.js';
import { OAuthError } from '../errors/oauth-error.js';
import { createPerMinuteRing } from './per-minute-ring.js';

/** The window the console's overview shows. */
export const RECENT_ACTIVITY_MINUTES = 60;
/**
 * Clients counted apart per minute and per list; past it a minute's tokens still count in its
 * totals. Only registered clients are counted apart (an unknown id is never a key), so this
 * bounds memory even with many registered clients: 60 minutes × 2 lists × this many entries.
 */
export const MAX_CLIENTS_PER_MINUTE = 1_000;

interface MinuteCounts {
  issued: number;
  failed: number;
  /** By OAuth error code: a fixed set (errors/oauth-error.ts), so bounded by itself. */
  reasons: Map<string, number>;
  issuedBy: Map<string, number>;
  failedBy: Map<string, { failed: number; lastError: string }>;
}

export interface RecentActivitySnapshot {
  /** Each minute of the window, oldest first, zero-filled. */
  minutes: { minute: number; issued: number; failed: number }[];
  failuresByReason: { reason: string; count: number }[];
  busiestClients: { clientId: string; issued: number }[];
  failingClients: { clientId: string; failed: number; lastError: string }[];
}

export interface RecentActivity {
  /** The window as it stands; client lists cut to the `top` with the most, most first. */
  snapshot(top: number): RecentActivitySnapshot;
}

/**
 * This process's token endpoint over the last hour, per minute, for the console's overview: a
 * subscriber to `token.issued` and `token.failed` like the metrics, kept in a fixed ring of minutes
 * (per-minute-ring.ts). Per instance: behind a load balancer each instance counts its own share.
 */
export function countRecentActivity(events: EndpointEventBus, now: () => number): RecentActivity {
  const ring = createPerMinuteRing<MinuteCounts>({
    minutes: RECENT_ACTIVITY_MINUTES,
    now,
    empty: () => ({ issued: 0, failed: 0, reasons: new Map(), issuedBy: new Map(), failedBy: new Map() }),
  });
  events.on('token.issued', ({ clientId }) => {
    const counts = ring.current();
    counts.issued += 1;
    const issued = counts.issuedBy.get(clientId);
    if (issued !== undefined) counts.issuedBy.set(clientId, issued + 1);
    else if (counts.issuedBy.size < MAX_CLIENTS_PER_MINUTE) counts.issuedBy.set(clientId, 1);
  });
  events.on('token.failed', ({ error, clientId: authenticated }) => {
    const counts = ring.current();
    const reason = toOAuthResponse(error).body.error;
    counts.failed += 1;
    counts.reasons.set(reason, (counts.reasons.get(reason) ?? 0) + 1);
    // A registered client that failed to authenticate (a wrong or expired secret) counts as failing too.
    const clientId = authenticated ?? (error instanceof OAuthError ? error.registeredClientId : undefined);
    if (clientId === undefined) return;
    const failed = counts.failedBy.get(clientId);
    if (failed) {
      failed.failed += 1;
      failed.lastError = reason;
    } else if (counts.failedBy.size < MAX_CLIENTS_PER_MINUTE) counts.failedBy.set(clientId, { failed: 1, lastError: reason });
  });
  return { snapshot: (top) => summarize(ring.window(), top) };
}

function summarize(window: { minute: number; bucket: MinuteCounts | undefined }[], top: number): RecentActivitySnapshot {
  const reasons = new Map<string, number>();
  const issuedBy = new Map<string, number>();
  const failedBy = new Map<string, { failed: number; lastError: string }>();
  // Oldest first, so a later minute's last error replaces an earlier one's.
  for (const { bucket } of window) {
    if (!bucket) continue;
    for (const [reason, count] of bucket.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + count);
    for (const [clientId, issued] of bucket.issuedBy) issuedBy.set(clientId, (issuedBy.get(clientId) ?? 0) + issued);
    for (const [clientId, { failed, lastError }] of bucket.failedBy) {
      failedBy.set(clientId, { failed: (failedBy.get(clientId)?.failed ?? 0) + failed, lastError });
    }
  }
  return {
    minutes: window.map(({ minute, bucket }) => ({ minute, issued: bucket?.issued ?? 0, failed: bucket?.failed ?? 0 })),
    failuresByReason: mostFirst(
      [...reasons].map(([reason, count]) => ({ reason, count })),
      (entry) => entry.count,
      (entry) => entry.reason,
    ),
    busiestClients: mostFirst(
      [...issuedBy].map(([clientId, issued]) => ({ clientId, issued })),
      (entry) => entry.issued,
      (entry) => entry.clientId,
    ).slice(0, top),
    failingClients: mostFirst(
      [...failedBy].map(([clientId, entry]) => ({ clientId, ...entry })),
      (entry) => entry.failed,
      (entry) => entry.clientId,
    ).slice(0, top),
  };
}

/** Largest first; ties in name order, so two reads of the same counts list them alike. */
function mostFirst<T>(items: T[], count: (item: T) => number, name: (item: T) => string): T[] {
  return items.sort((a, b) => count(b) - count(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
