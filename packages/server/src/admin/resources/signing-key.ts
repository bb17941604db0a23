import { Type, type Static } from '@sinclair/typebox';
import type { SigningKeyStatus } from '../../storage/types.js';
import { codec, field, listOf, mapped, nested, optional, type RecordOf } from './fields.js';
import { nullable, nullableTime, SigningAlg, stringEnum, time } from './common.js';

/** A signing key as operators see it: never the private part. */

const STATUSES: readonly SigningKeyStatus[] = ['pending', 'active', 'published', 'retired'];

export const signingKeyResource = codec({
  kid: field('kid', Type.String()),
  alg: field('alg', SigningAlg),
  status: field('status', stringEnum(STATUSES, { description: 'pending: published ahead of signing (scheduled rotation)' })),
  api: field('apiIdentifier', nullable(Type.String({ description: 'The API an HS256 key belongs to' }))),
  created_at: time('createdAt'),
  rotated_at: nullableTime('rotatedAt'),
});
export type SigningKeySummary = RecordOf<typeof signingKeyResource.fields>;
export type SigningKeyWire = Static<typeof signingKeyResource.schema>;

export const signingKeyList = codec({ items: listOf('items', signingKeyResource) });

export const rotateKey = codec({
  alg: optional('alg', SigningAlg),
  api: optional('apiIdentifier', Type.String({ description: 'For HS256: the API whose key to rotate' })),
});

export const rotatedKey = codec({
  key: nested('key', signingKeyResource),
  previous: listOf('previous', signingKeyResource),
  shared_secret: optional('sharedSecret', Type.String()),
});

export const RetireKeyQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Retire even though tokens the key signed may still be alive (they stop verifying)' })) },
  { additionalProperties: false },
);

export const revokedKey = codec({
  revoked: field('revoked', Type.String()),
  replacement: mapped('replacement', nullable(Type.String(), { description: 'The key that signs now, when the revoked one was active' }), {
    encode: (kid: string | undefined) => kid ?? null,
    decode: (kid: string | null) => kid ?? undefined,
  }),
});
/** The key revoked and, when it was the active one, the key that signs now. */
export type RevokedKey = RecordOf<typeof revokedKey.fields>;
