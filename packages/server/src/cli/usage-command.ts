import { Command, Option } from 'commander';
import { usageView } from '../admin/resources/usage.js';
import type { UsageGranularity } from '../state/types.js';
import { withAdmin } from './cli-context.js';
import { action, print, table, withManagementOptions, type ManagementOptions } from './output.js';

interface UsageOptions extends ManagementOptions {
  client?: string;
  api?: string;
  by?: UsageGranularity;
  since?: string;
  until?: string;
}

const REFETCH_HINT =
  'refetches: tokens fetched while an earlier one for the same API and scope had more than half its life left. A client that fetches a token per call uses up its quota and the server’s capacity; reuse tokens until they near expiry (the m2m-auth SDKs do).';

/** `m2m-auth usage`: tokens issued per client and API, by hour or day, local or through --server (the same view either way). */
export function usageCommand(): Command {
  return withManagementOptions(new Command('usage').description('tokens issued per client and API, by hour or day (UTC)'))
    .option('--client <client_id>', 'only this client')
    .option('--api <identifier>', 'only tokens for this API')
    .addOption(new Option('--by <granularity>', 'hour or day (default day)').choices(['hour', 'day']))
    .option('--since <time>', 'ISO 8601 time or epoch ms, from the bucket holding it (default: 24 hours or 7 days back)')
    .option('--until <time>', 'ISO 8601 time or epoch ms, exclusive (default: the end of the current hour or day)')
    .action(
      action(async (options: UsageOptions) =>
        withAdmin(options, async ({ admin }) => {
          const view = usageView.toWire(
            await admin.readUsage({
              ...(options.client !== undefined ? { clientId: options.client } : {}),
              ...(options.api !== undefined ? { api: options.api } : {}),
              ...(options.by !== undefined ? { granularity: options.by } : {}),
              ...(options.since !== undefined ? { since: options.since } : {}),
              ...(options.until !== undefined ? { until: options.until } : {}),
            }),
          );
          print(
            options,
            () => {
              const start = (iso: string) => (view.granularity === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00Z`);
              const lines = [
                `Tokens per ${view.granularity}, ${view.since} to ${view.until} (UTC)`,
                table(
                  [view.granularity.toUpperCase(), 'CLIENT_ID', 'API', 'TOKENS', 'REFETCHES'],
                  view.buckets.map((bucket) => [start(bucket.start), bucket.client_id, bucket.api, bucket.tokens, bucket.refetches]),
                ),
              ];
              if (view.totals.length > 0) {
                lines.push(
                  '',
                  'totals:',
                  table(
                    ['CLIENT_ID', 'API', 'TOKENS', 'REFETCHES'],
                    view.totals.map((total) => [total.client_id, total.api, total.tokens, total.refetches]),
                  ),
                );
              }
              if (view.totals.some((total) => total.refetches > 0)) lines.push('', REFETCH_HINT);
              return lines.join('\n');
            },
            view,
          );
        }),
      ),
    );
}
