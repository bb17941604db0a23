import { Type, type SchemaOptions, type StringOptions, type TSchema, type TUnsafe } from '@sinclair/typebox';
import {
  QUOTA_MODES,
  SIGNING_ALGORITHMS,
  TOKEN_FORMATS,
  type ClientAuthMethod,
  type ClientQuota,
  type QuotaMode,
  type SigningAlgorithm,
  type TokenFormat,
} from '../../storage/types.js';
import { MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS } from '../../protocol/limits.js';
import {
  inMemberOrder,
  JWK_MEMBER_ORDER,
  JWK_PUBLIC_MEMBERS,
  MAX_CERTIFICATE_CHARS,
  MAX_CHAIN_CERTIFICATES,
  MAX_JWK_MEMBER_CHARS,
  MAX_JWKS_KEYS,
  MAX_QUOTA,
  type QuotaChangeInput,
} from '../validation.js';
import { mapped } from './fields.js';

/** Schemas more than one admin resource speaks: snake_case like OAuth, ISO-8601 times. */

/** A string of a fixed set, as `enum` (what OpenAPI readers and the docs render), typed as the union. */
export const stringEnum = <T extends string>(values: readonly T[], options: SchemaOptions = {}): TUnsafe<T> =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

export const nullable = <S extends TSchema>(schema: S, options: SchemaOptions = {}) => Type.Union([schema, Type.Null()], options);

/** The same schema (and type) with another description, e.g. the default a config document falls back to. */
export const withDescription = <S extends TSchema>(schema: S, description: string): S => ({ ...schema, description });

export const Time = Type.String({ format: 'date-time' });

const iso = (ms: number) => new Date(ms).toISOString();

/** A time: epoch milliseconds in records, ISO 8601 on the wire. */
export const time = <Key extends string>(key: Key, options: StringOptions = {}) =>
  mapped(key, Type.String({ format: 'date-time', ...options }), { encode: iso, decode: (text: string) => Date.parse(text) });

/** A time that may not have happened (null). */
export const nullableTime = <Key extends string>(key: Key, options: SchemaOptions = {}) =>
  mapped(key, nullable(Time, options), {
    encode: (ms: number | null) => (ms === null ? null : iso(ms)),
    decode: (text: string | null) => (text === null ? null : Date.parse(text)),
  });

export const SigningAlg = stringEnum<SigningAlgorithm>(SIGNING_ALGORITHMS, { description: 'JWS algorithm of the API’s tokens' });

export const TokenFormatSchema = stringEnum<TokenFormat>(TOKEN_FORMATS, {
  description: 'What the API’s access tokens are: jwt (RFC 9068, verified offline) or opaque (a handle its resource servers introspect)',
});

export const TokenTtl = Type.Integer({ minimum: MIN_TOKEN_TTL_SECONDS, maximum: MAX_TOKEN_TTL_SECONDS, description: 'Access-token lifetime in seconds' });

export const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];
export const AuthMethods = Type.Array(stringEnum<ClientAuthMethod>(AUTH_METHODS), { minItems: 1 });

/** A public JWK Set: flat public JWKs only (admin/validation.ts checks the members each kty has). */
export type PublicJwks = { keys: Record<string, unknown>[] };
const jwkMember = Type.String({ maxLength: MAX_JWK_MEMBER_CHARS });
// In stored order (validation.ts).
const jwkMembers = JWK_MEMBER_ORDER.filter((member) => member !== 'x5c');
export const Jwk = Type.Object(
  {
    ...Object.fromEntries(jwkMembers.map((member) => [member, Type.Optional(jwkMember)])),
    kty: stringEnum(Object.keys(JWK_PUBLIC_MEMBERS)),
    key_ops: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
    ext: Type.Optional(Type.Boolean()),
    x5c: Type.Optional(
      Type.Array(Type.String({ maxLength: MAX_CERTIFICATE_CHARS }), {
        minItems: 1,
        maxItems: MAX_CHAIN_CERTIFICATES,
        description: 'The key’s certificate first (base64 DER): a self_signed_tls_client_auth client’s registered certificate (RFC 8705 §2.2)',
      }),
    ),
  },
  { additionalProperties: false },
);
// Typed as the record's JWK Set: the schema checks more than the type can say (members per kty).
export const Jwks = Type.Unsafe<PublicJwks | null>(
  nullable(Type.Object({ keys: Type.Array(Jwk, { minItems: 1, maxItems: MAX_JWKS_KEYS }) }, { additionalProperties: false }), {
    description: 'Public JWK Set for private_key_jwt, and the certificates (x5c) of self_signed_tls_client_auth',
  }),
);

/**
 * A JWK Set field whose keys go out with their members in one order (the order the admin API's
 * schema serialises them in), however the database returned them: the CLI prints the same bytes
 * from a local data directory as through --server, on every adapter.
 */
export const jwksField = <Key extends string>(key: Key, schema: TUnsafe<PublicJwks | null>) =>
  mapped(key, schema, { encode: (jwks: PublicJwks | null) => inMemberOrder(jwks), decode: (jwks: PublicJwks | null) => jwks });

export const IntrospectApis = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
  maxItems: 200,
  description:
    'API identifiers (or "*") whose tokens this client may introspect (RFC 7662 §4); [] for none. Setting or changing it needs the admin scope introspection:write',
});

const QuotaLimit = (window: string) =>
  nullable(Type.Integer({ minimum: 1, maximum: MAX_QUOTA }), { description: `Most tokens per ${window} (UTC); null: no limit for the ${window}` });
const QuotaModeSchema = stringEnum<QuotaMode>(QUOTA_MODES, {
  description:
    'enforce: past a limit the token endpoint answers 429 until the window ends; observe: tokens are issued and what enforce would refuse is counted and logged',
});
export type QuotaWire = { per_hour: number | null; per_day: number | null; mode: QuotaMode };
/** A client's token quota on the wire (null: none). */
export const Quota = Type.Unsafe<QuotaWire | null>(
  nullable(Type.Object({ per_hour: QuotaLimit('hour'), per_day: QuotaLimit('day'), mode: QuotaModeSchema }, { additionalProperties: false }), {
    description: 'Token quota of the client: at most per_hour / per_day tokens (null: none)',
  }),
);
const partialQuota = (description: string) =>
  Type.Unsafe<Partial<QuotaWire> | null>(
    nullable(
      Type.Object(
        { per_hour: Type.Optional(QuotaLimit('hour')), per_day: Type.Optional(QuotaLimit('day')), mode: Type.Optional(QuotaModeSchema) },
        { additionalProperties: false },
      ),
      { description },
    ),
  );
/** A change of quota: the fields given replace the current ones (a limit set to null goes); null removes the quota. */
export const QuotaChange = partialQuota('Sets or changes the token quota (fields left out keep their value; mode defaults to enforce); null removes it');
/** The config document's quota: what is left out is no limit (mode: enforce). */
export const ConfigQuota = partialQuota(
  'Token quota: at most per_hour / per_day tokens per UTC hour / day (left out or null: no limit for it), mode enforce (the default) or observe. Default: none.',
);
export const quotaToWire = (quota: ClientQuota | undefined): QuotaWire | null =>
  quota ? { per_hour: quota.perHour, per_day: quota.perDay, mode: quota.mode } : null;
export const quotaFromWire = (wire: QuotaWire | null): ClientQuota | undefined =>
  wire ? { perHour: wire.per_hour, perDay: wire.per_day, mode: wire.mode } : undefined;
export const quotaChangeToWire = (change: QuotaChangeInput | undefined): Partial<QuotaWire> | null | undefined =>
  change === undefined || change === null
    ? change
    : {
        ...(change.perHour !== undefined ? { per_hour: change.perHour } : {}),
        ...(change.perDay !== undefined ? { per_day: change.perDay } : {}),
        ...(change.mode !== undefined ? { mode: change.mode } : {}),
      };
export const quotaChangeFromWire = (wire: Partial<QuotaWire> | null | undefined): QuotaChangeInput | undefined =>
  wire === undefined || wire === null
    ? wire
    : {
        ...(wire.per_hour !== undefined ? { perHour: wire.per_hour } : {}),
        ...(wire.per_day !== undefined ? { perDay: wire.per_day } : {}),
        ...(wire.mode !== undefined ? { mode: wire.mode } : {}),
      };

export const ScopeName = Type.String({ minLength: 1, maxLength: 128 });
export const ScopeList = Type.Array(ScopeName, { maxItems: 200 });

/** One page of a list, with the cursor of the next. */
export const pageOf = <S extends TSchema>(item: S) =>
  Type.Object(
    { items: Type.Array(item), next_cursor: nullable(Type.String({ description: 'Pass as cursor for the next page' })) },
    { additionalProperties: false },
  );

export const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size (default 100)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
};
export const ListQuery = Type.Object(pageQuery, { additionalProperties: false });
