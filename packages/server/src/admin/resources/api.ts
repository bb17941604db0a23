import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_TOKEN_TTL_SECONDS } from '../../protocol/limits.js';
import { codec, field, optional, type RecordOf } from './fields.js';
import { ScopeName, SigningAlg, time, TokenFormatSchema, TokenTtl, withDescription } from './common.js';

/** An API (an audience): what it is on the wire, in a create or change request, and in the config document. */

const Identifier = Type.String({ description: 'Absolute URI; the tokens’ aud' });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const ScopeInput = Type.Union([
  ScopeName,
  Type.Object({ value: ScopeName, description: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
]);
const ScopeInputs = Type.Array(ScopeInput, { maxItems: 200 });

export const apiResource = codec({
  identifier: field('identifier', Identifier),
  name: field('name', Type.String()),
  scopes: field('scopes', Type.Array(Type.Object({ value: Type.String(), description: Type.String() }, { additionalProperties: false }))),
  signing_alg: field('signingAlg', SigningAlg),
  token_ttl_seconds: field('tokenTtlSeconds', TokenTtl),
  token_format: field('tokenFormat', TokenFormatSchema),
  created_at: time('createdAt'),
  updated_at: time('updatedAt'),
});
export type ApiWire = Static<typeof apiResource.schema>;

const writableFields = {
  name: optional('name', Name),
  scopes: optional('scopes', ScopeInputs),
  signing_alg: optional('signingAlg', SigningAlg),
  token_ttl_seconds: optional('tokenTtlSeconds', TokenTtl),
  token_format: optional('tokenFormat', TokenFormatSchema),
};
export const createApi = codec({ identifier: field('identifier', Type.String({ minLength: 1, maxLength: 512 })), ...writableFields });
export const updateApi = codec(writableFields);
export type CreateApiInput = RecordOf<typeof createApi.fields>;
export type UpdateApiInput = RecordOf<typeof updateApi.fields>;

/** An HS256 API's shared secret travels once, in the answer that created or re-keyed it. */
export const ApiWithSecret = Type.Object(
  { ...apiResource.schema.properties, shared_secret: Type.Optional(Type.String({ description: 'HS256 only: the shared secret, in this one answer' })) },
  { additionalProperties: false },
);

/** The config document's entry: the create request, with the defaults and the checks apply makes. */
const ScopeToken = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', not: { pattern: '/\\.default$' } });
export const ConfigApi = Type.Object(
  {
    identifier: Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: '^[A-Za-z][A-Za-z0-9+.-]*:[^#\\s]*$',
      description: 'Absolute URI without a fragment: the `aud` of tokens for this API.',
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the identifier.' })),
    scopes: Type.Optional(
      Type.Array(Type.Union([ScopeToken, Type.Object({ value: ScopeToken, description: Type.Optional(Type.String()) }, { additionalProperties: false })])),
    ),
    signing_alg: Type.Optional(withDescription(SigningAlg, 'Default RS256.')),
    token_ttl_seconds: Type.Optional(withDescription(TokenTtl, `Default ${DEFAULT_TOKEN_TTL_SECONDS}.`)),
    token_format: Type.Optional(withDescription(TokenFormatSchema, 'jwt (default) or opaque: see docs/opaque-tokens.md.')),
  },
  { additionalProperties: false },
);
export type ConfigApi = Static<typeof ConfigApi>;
