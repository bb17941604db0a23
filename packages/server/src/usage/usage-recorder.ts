import type { UsageCount, UsageCounterStore } from '../state/types.js';
import { bucketExpiry, bucketStart, type UsageRetention } from './usage-windows.js';

/**
 * Counts issued tokens without touching the shared state on the token path: a token adds one to
 * an in-process Map (client, API, hour) and a timer writes what accumulated every
 * `flushIntervalMs` as one batch (one round trip to Redis, one transaction in SQLite), as the hour
 * and the day it falls in. Memory is bounded: at most `maxPendingKeys` (client, API, hour) entries
 * wait; past that a token is not counted and is reported as lost. A batch the shared state refuses
 * (an outage) is lost too: usage is informational, and holding it back for later would grow
 * without bound through a long outage. Losses are counted for the metrics, never silent.
 */
export interface UsageRecorder {
  /** Counts a token issued at `at` (epoch ms). */
  record(clientId: string, api: string, isRefetch: boolean, at: number): void;
  /** Writes what is pending now (the timer calls it; tests and close() too). */
  flush(): Promise<void>;
  stats(): UsageRecorderStats;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
}

export interface UsageRecorderStats {
  /** Tokens written to the shared state since start. */
  recorded: number;
  /** Tokens not counted: the pending Map was full (`pending_full`), or the shared state refused a batch (`shared_state`). */
  lost: { pendingFull: number; sharedState: number };
  /** (client, API, hour) entries waiting for the next flush. */
  pendingKeys: number;
}

export interface UsageRecorderOptions {
  store: UsageCounterStore;
  retention: UsageRetention;
  /** Default 1000 ms: usage read through the admin API lags by about this much. */
  flushIntervalMs?: number;
  /** Default 10,000 (client, API, hour) entries between two flushes. */
  maxPendingKeys?: number;
  /** Called when a batch is lost after the previous one was written (once per outage, not once per second). */
  onLost?: (error: unknown, tokens: number) => void;
  /** Called when a batch is written after one was lost. */
  onRecovered?: () => void;
}

interface Pending {
  clientId: string;
  api: string;
  hour: number;
  tokens: number;
  refetches: number;
}

export function createUsageRecorder(options: UsageRecorderOptions): UsageRecorder {
  const { store, retention } = options;
  const maxPendingKeys = options.maxPendingKeys ?? 10_000;
  // hour → client → API → its count. Per token: lookups on the cached records' own strings (their
  // hashes are kept), no key built; `pendingKeys` counts the (client, API, hour) entries.
  let pending = new Map<number, Map<string, Map<string, Pending>>>();
  let pendingKeys = 0;
  let flushing: Promise<void> | undefined;
  let isLosing = false;
  const totals = { recorded: 0, pendingFull: 0, sharedState: 0 };

  function record(clientId: string, api: string, isRefetch: boolean, at: number) {
    const hour = bucketStart(at, 'hour');
    let byClient = pending.get(hour);
    let byApi = byClient?.get(clientId);
    const entry = byApi?.get(api);
    if (entry) {
      entry.tokens += 1;
      if (isRefetch) entry.refetches += 1;
      return;
    }
    if (pendingKeys >= maxPendingKeys) {
      totals.pendingFull += 1;
      return;
    }
    if (!byClient) pending.set(hour, (byClient = new Map()));
    if (!byApi) byClient.set(clientId, (byApi = new Map()));
    byApi.set(api, { clientId, api, hour, tokens: 1, refetches: isRefetch ? 1 : 0 });
    pendingKeys += 1;
  }

  async function write(batch: Pending[]) {
    const counts: (UsageCount & { expiresAt: number })[] = [];
    const days = new Map<string, UsageCount & { expiresAt: number }>();
    let tokens = 0;
    for (const { clientId, api, hour, tokens: hourTokens, refetches } of batch) {
      tokens += hourTokens;
      counts.push({ clientId, api, granularity: 'hour', start: hour, tokens: hourTokens, refetches, expiresAt: bucketExpiry(hour, 'hour', retention) });
      const dayKey = `${bucketStart(hour, 'day')}\n${clientId}\n${api}`;
      const day = days.get(dayKey);
      if (day) {
        day.tokens += hourTokens;
        day.refetches += refetches;
      } else {
        const start = bucketStart(hour, 'day');
        days.set(dayKey, { clientId, api, granularity: 'day', start, tokens: hourTokens, refetches, expiresAt: bucketExpiry(start, 'day', retention) });
      }
    }
    try {
      await store.addUsage([...counts, ...days.values()]);
      totals.recorded += tokens;
      if (isLosing) {
        isLosing = false;
        options.onRecovered?.();
      }
    } catch (error) {
      totals.sharedState += tokens;
      if (!isLosing) {
        isLosing = true;
        options.onLost?.(error, tokens);
      }
    }
  }

  function flush(): Promise<void> {
    // One batch in flight: a slow store makes the next batch bigger (bounded), never concurrent.
    if (flushing) return flushing.then(flush);
    if (pendingKeys === 0) return Promise.resolve();
    const batch = [...pending.values()].flatMap((byClient) => [...byClient.values()].flatMap((byApi) => [...byApi.values()]));
    pending = new Map();
    pendingKeys = 0;
    flushing = write(batch).finally(() => (flushing = undefined));
    return flushing;
  }

  // A tick while a batch is still being written leaves the Map for the next one.
  const timer = setInterval(() => void (flushing ?? flush()), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    record,
    flush,
    stats: () => ({ recorded: totals.recorded, lost: { pendingFull: totals.pendingFull, sharedState: totals.sharedState }, pendingKeys }),
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
