import { Command } from 'commander';
import { parseTime } from '../admin/parse-time.js';
import { withAdmin } from './cli-context.js';
import { action, parseInteger, print, table, withManagementOptions, type ManagementOptions } from './output.js';

interface AuditOptions extends ManagementOptions {
  type?: string;
  actor?: string;
  since?: string;
  until?: string;
  limit?: number;
}

export function auditCommand(): Command {
  const audit = new Command('audit').description('the audit log of admin changes');
  withManagementOptions(audit.command('list').description('admin changes, newest first'))
    .option('--type <type>', 'only this event type, e.g. client.created')
    .option('--actor <actor>', 'only changes by this admin client id, or cli')
    .option('--since <time>', 'ISO 8601 time or epoch ms (inclusive)')
    .option('--until <time>', 'ISO 8601 time or epoch ms (exclusive)')
    .option('--limit <n>', 'at most this many events (default 100)', parseInteger('--limit'))
    .action(
      action(async (options: AuditOptions) =>
        withAdmin(options, async ({ admin }) => {
          const since = parseTime(options.since, 'since');
          const until = parseTime(options.until, 'until');
          const page = await admin.listAuditEvents({
            ...(options.type ? { type: options.type } : {}),
            ...(options.actor ? { actor: options.actor } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(until !== undefined ? { until } : {}),
            ...(options.limit !== undefined ? { limit: options.limit } : {}),
          });
          const events = page.items.map((event) => ({ ...event, at: new Date(event.at).toISOString() }));
          print(
            options,
            () =>
              table(
                ['AT', 'TYPE', 'ACTOR', 'DATA'],
                events.map((event) => [event.at, event.type, event.actor, summarize(event.data)]),
              ),
            events,
          );
        }),
      ),
    );
  return audit;
}

/** One line per event for people; --json has everything. */
function summarize(data: Record<string, unknown>): string {
  const target = ['identifier', 'clientId', 'grantId', 'policyId', 'kid', 'issuer'].map((key) => data[key]).find((value) => typeof value === 'string');
  const changes = data.changes && typeof data.changes === 'object' ? ` changed: ${Object.keys(data.changes).join(', ') || 'nothing'}` : '';
  return `${target ?? ''}${changes}`.trim();
}
