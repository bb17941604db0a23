import type { UsageGranularity } from '../state/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import { bucketEnd, bucketStart, DAY_MS, HOUR_MS } from '../usage/usage-windows.js';
import { parseTime } from './parse-time.js';
import type { AdminContext } from './admin-context.js';
import type { UsageFilter, UsageView } from './resources/usage.js';

export type { UsageFilter, UsageView } from './resources/usage.js';

export interface UsageOperations {
  /** Tokens issued per client and API, by hour or day, with totals; counted in the shared state (usage/usage-recorder.ts). */
  readUsage(filter?: UsageFilter): Promise<UsageView>;
}

/** What a read shows when it names no `since`: the last 24 hours, or the last 7 days. */
const DEFAULT_SPAN_MS: Record<UsageGranularity, number> = { hour: 24 * HOUR_MS, day: 7 * DAY_MS };

export function createUsageOperations({ deps }: AdminContext): UsageOperations {
  return {
    async readUsage(filter = {}) {
      const { usage } = deps;
      if (!usage)
        throw new DependencyUnavailableError(
          'admin opened without the shared state',
          'Usage counts live in the shared state, which this admin was opened without.',
        );
      const granularity = filter.granularity ?? 'day';
      if (granularity !== 'hour' && granularity !== 'day') throw validationFailed('granularity', 'granularity must be hour or day');
      const at = deps.now();
      const untilAsked = parseTime(filter.until, 'until');
      const until = untilAsked ?? bucketEnd(at, granularity);
      // From the start of the bucket holding `since`, so a bucket is shown whole or not at all.
      const since = bucketStart(parseTime(filter.since, 'since') ?? until - DEFAULT_SPAN_MS[granularity], granularity);
      if (since >= until) throw validationFailed('since', 'since must be before until');
      const counts = await usage.readUsage({
        granularity,
        since,
        until,
        ...(filter.clientId !== undefined ? { clientId: filter.clientId } : {}),
        ...(filter.api !== undefined ? { api: filter.api } : {}),
      });
      const totals = new Map<string, { clientId: string; api: string; tokens: number; refetches: number }>();
      for (const { clientId, api, tokens, refetches } of counts) {
        const key = `${clientId}\n${api}`;
        const total = totals.get(key);
        if (total) {
          total.tokens += tokens;
          total.refetches += refetches;
        } else totals.set(key, { clientId, api, tokens, refetches });
      }
      return {
        granularity,
        since,
        until,
        buckets: counts.map(({ clientId, api, start, tokens, refetches }) => ({ clientId, api, start, tokens, refetches })),
        // Most tokens first: the clients worth a look.
        totals: [...totals.values()].sort(
          (a, b) => b.tokens - a.tokens || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : a.api < b.api ? -1 : 1),
        ),
      };
    },
  };
}
