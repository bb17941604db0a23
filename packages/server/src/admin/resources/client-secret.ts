import { Type, type Static } from '@sinclair/typebox';
import { codec, field, listOf, mapped, nested, optional, type RecordOf } from './fields.js';
import { nullableTime, time } from './common.js';

/**
 * A client secret as operators see it: an id and a hint, never the secret or its hash. The raw
 * secret travels once, in the answer that created it.
 */
const HINT_PREFIX = '…';

const summaryFields = {
  id: field('id', Type.String()),
  hint: mapped('hint', Type.String({ description: 'The last four characters, to tell secrets apart' }), {
    encode: (hint: string) => `${HINT_PREFIX}${hint}`,
    decode: (text: string) => text.replace(/^…/, ''),
  }),
  created_at: time('createdAt'),
  expires_at: nullableTime('expiresAt'),
};
export const clientSecretResource = codec(summaryFields);
export type ClientSecretSummary = RecordOf<typeof clientSecretResource.fields>;

/** With when it last authenticated. */
export const clientSecretDetailsResource = codec({
  ...summaryFields,
  last_used_at: nullableTime('lastUsedAt', { description: 'Last successful authentication (recorded in batches, up to ~30 s late)' }),
});
/** Last successful authentication, recorded in batches (up to ~30 s late); null = never seen. */
export type ClientSecretDetails = RecordOf<typeof clientSecretDetailsResource.fields>;

export const clientSecretList = codec({ items: listOf('items', clientSecretDetailsResource) });

const Shown = Type.String({ description: 'Shown in this one answer only' });

export const rotateSecret = codec({
  grace_seconds: optional(
    'graceSeconds',
    Type.Integer({ minimum: 0, maximum: 2_592_000, description: 'How long the current secrets keep working (default 3600)' }),
  ),
});
export const addSecret = codec({
  expires_in_seconds: optional(
    'expiresInSeconds',
    Type.Integer({ minimum: 60, maximum: 157_680_000, description: 'The secret stops working after this many seconds (default: never)' }),
  ),
});

export const rotatedSecret = codec({
  client_id: field('clientId', Type.String()),
  client_secret: field('clientSecret', Shown),
  secret: nested('secret', clientSecretResource),
  previous_secrets_expire_at: time('previousSecretsExpireAt'),
});
export const addedSecret = codec({
  client_id: field('clientId', Type.String()),
  client_secret: field('clientSecret', Shown),
  secret: nested('secret', clientSecretDetailsResource),
});
export type RotatedSecret = RecordOf<typeof rotatedSecret.fields>;
export type AddedClientSecret = RecordOf<typeof addedSecret.fields>;
export type ClientSecretWire = Static<typeof clientSecretResource.schema>;
