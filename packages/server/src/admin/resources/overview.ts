import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import type { SigningKeyStatus } from '../../storage/types.js';
import { codec, field, listOf, mapped, nested, type Codec, type Field, type Fields, type RecordOf, type WireOf } from './fields.js';
import { nullable, SigningAlg, stringEnum, Time, time } from './common.js';

/** What the console's overview page shows: `GET /overview`. */

const Count = Type.Integer({ minimum: 0 });
const SHARED_STATE_KINDS = ['memory', 'sqlite', 'redis'] as const;
const KEY_STATUSES: readonly SigningKeyStatus[] = ['pending', 'active', 'published'];

const minuteCounts = codec({
  minute: time('minute', { description: 'Start of the minute (UTC)' }),
  issued: field('issued', Count),
  failed: field('failed', Count),
});

const failureReason = codec({
  reason: field('reason', Type.String({ description: 'The OAuth error code answered (invalid_client, invalid_scope, …)' })),
  count: field('count', Count),
});

const busyClient = codec({
  client_id: field('clientId', Type.String()),
  name: field('name', Type.String()),
  issued: field('issued', Count),
});

const failingClient = codec({
  client_id: field('clientId', Type.String()),
  name: field('name', Type.String()),
  failed: field('failed', Count),
  last_error: field('lastError', Type.String({ description: 'The OAuth error code of its latest failure' })),
});

const keyAge = codec({
  kid: field('kid', Type.String()),
  alg: field('alg', SigningAlg),
  status: field('status', stringEnum(KEY_STATUSES)),
  age_seconds: field('ageSeconds', Count),
  created_at: time('createdAt'),
});

const probe = {
  ok: field('ok', Type.Boolean()),
  latency_ms: field('latencyMs', Type.Number({ minimum: 0, description: 'How long the check took (at most the check’s timeout)' })),
};

const health = codec({
  database: nested('database', codec(probe)),
  shared_state: nested(
    'sharedState',
    codec({ ...probe, kind: field('kind', stringEnum(SHARED_STATE_KINDS, { description: 'Where revocations, limits and usage counts live' })) }),
  ),
});

export const overviewView = codec({
  generated_at: time('generatedAt'),
  instance: nested('instance', codec({ started_at: time('startedAt', { description: 'When this instance started' }) })),
  tokens_per_minute: listOf('tokensPerMinute', minuteCounts),
  failures_by_reason: listOf('failuresByReason', failureReason),
  busiest_clients: listOf('busiestClients', busyClient),
  failing_clients: listOf('failingClients', failingClient),
  keys: optionalListOf('keys', keyAge, 'Signing keys not yet retired, oldest first; only with keys:read (left out otherwise)'),
  next_rotation: mapped(
    'nextRotation',
    Type.Optional(
      nullable(Time, { description: 'When scheduled rotation next makes a new key sign; null when it is off. Only with keys:read (left out otherwise)' }),
    ),
    {
      encode: (at: number | null | undefined) => (at === undefined || at === null ? at : new Date(at).toISOString()),
      decode: (text: string | null | undefined) => (text === undefined || text === null ? text : Date.parse(text)),
    },
  ),
  health: nested('health', health),
});
export type OverviewView = RecordOf<typeof overviewView.fields>;

/** A list of another resource that a message may leave out. */
function optionalListOf<Key extends string, F extends Fields>(
  key: Key,
  inner: Codec<F>,
  description: string,
): Field<Key, TOptional<TSchema>, RecordOf<F>[] | undefined, WireOf<F>[] | undefined> {
  const list = listOf(key, inner);
  return mapped(key, Type.Optional(Type.Array(inner.schema, { description })), {
    encode: (items: RecordOf<F>[] | undefined) => (items === undefined ? undefined : list.encode(items)),
    decode: (items: WireOf<F>[] | undefined) => (items === undefined ? undefined : list.decode(items)),
  });
}
