import { Type, type Static } from '@sinclair/typebox';
import { USAGE_GRANULARITIES, type UsageGranularity } from '../../state/types.js';
import { codec, field, listOf, optional, type RecordOf } from './fields.js';
import { stringEnum, time } from './common.js';

/** Tokens issued per client and API, by hour or by day: what `GET /usage` answers and `m2m-auth usage --json` prints. */

const Tokens = Type.Integer({ minimum: 0 });
const Refetches = Type.Integer({
  minimum: 0,
  description:
    'Of the tokens, those issued while an earlier one for the same audience and scope had more than half its life left: a client that fetches a token per call instead of reusing it',
});

export const usageBucket = codec({
  client_id: field('clientId', Type.String()),
  api: field('api', Type.String()),
  start: time('start', { description: 'Start of the hour or day (UTC)' }),
  tokens: field('tokens', Tokens),
  refetches: field('refetches', Refetches),
});

export const usageTotal = codec({
  client_id: field('clientId', Type.String()),
  api: field('api', Type.String()),
  tokens: field('tokens', Tokens),
  refetches: field('refetches', Refetches),
});

export const Granularity = stringEnum<UsageGranularity>(USAGE_GRANULARITIES, { description: 'hour or day (UTC)' });

export const usageView = codec({
  granularity: field('granularity', Granularity),
  since: time('since', { description: 'Start of the first bucket asked for (inclusive)' }),
  until: time('until', { description: 'End of the last bucket asked for (exclusive)' }),
  buckets: listOf('buckets', usageBucket),
  totals: listOf('totals', usageTotal),
});
export type UsageView = RecordOf<typeof usageView.fields>;

/** The query; times as ISO 8601 or epoch milliseconds (admin/parse-time.ts reads them). */
export const usageFilter = codec({
  client_id: optional('clientId', Type.String({ minLength: 1, maxLength: 128, description: 'Only this client' })),
  api: optional('api', Type.String({ minLength: 1, maxLength: 512, description: 'Only tokens for this API (its identifier, the tokens’ audience)' })),
  granularity: optional('granularity', withDefault(Granularity, 'Default day')),
  since: optional(
    'since',
    Type.String({ maxLength: 40, description: 'ISO 8601 time or epoch ms; from the bucket holding it. Default: 24 hours or 7 days back' }),
  ),
  until: optional('until', Type.String({ maxLength: 40, description: 'ISO 8601 time or epoch ms (exclusive). Default: the end of the current bucket' })),
});
export type UsageFilter = RecordOf<typeof usageFilter.fields>;
export const UsageQuery = usageFilter.schema;
export type UsageQueryWire = Static<typeof UsageQuery>;

function withDefault<S extends object>(schema: S, note: string): S {
  return { ...schema, description: `${(schema as { description?: string }).description ?? ''}. ${note}` };
}
