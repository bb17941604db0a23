import { Type, type Static } from '@sinclair/typebox';
import type { TokenReusePolicy, TrustedIssuerKind } from '../../storage/types.js';
import {
  ISSUER_KIND_DEFAULTS,
  MAX_TOKEN_LIFETIME_LIMIT_SECONDS,
  MIN_TOKEN_LIFETIME_LIMIT_SECONDS,
  TRUSTED_ISSUER_KINDS,
} from '../../federation/federation-rules.js';
import { MAX_CERTIFICATE_CHARS, MAX_CHAIN_CERTIFICATES } from '../validation.js';
import { MAX_ISSUER_CHARS, MAX_ISSUER_JWKS_KEYS, MAX_JWKS_URI_CHARS, TOKEN_REUSE_POLICIES } from '../federation-validation.js';
import { codec, field, optional, type RecordOf } from './fields.js';
import { Jwk, jwksField, ListQuery, nullable, stringEnum, time, withDescription, type PublicJwks } from './common.js';

/**
 * A trusted issuer (workload identity federation): a platform whose tokens a client may present
 * instead of a secret. Everything about it is public: its keys too.
 */

const IssuerKind = stringEnum<TrustedIssuerKind>(TRUSTED_ISSUER_KINDS, {
  description: 'oidc (any OIDC provider, CI services), kubernetes (a cluster’s service-account issuer), spiffe (a SPIFFE trust domain); sets the defaults',
});
const Issuer = Type.String({
  minLength: 1,
  maxLength: MAX_ISSUER_CHARS,
  description: 'The iss of its tokens: an https URL (http only on loopback), or spiffe://trust-domain for kind spiffe',
});
const JwksUri = nullable(Type.String({ maxLength: MAX_JWKS_URI_CHARS }), {
  description: 'Where its keys are fetched (https; http only on loopback); null: from its discovery document (never for spiffe)',
});
// A SPIFFE bundle's X.509-SVID keys carry their certificate chain.
const IssuerJwk = Type.Object(
  {
    ...Jwk.properties,
    x5c: Type.Optional(Type.Array(Type.String({ maxLength: MAX_CERTIFICATE_CHARS }), { maxItems: MAX_CHAIN_CERTIFICATES })),
  },
  { additionalProperties: false },
);
const IssuerJwks = Type.Unsafe<PublicJwks | null>(
  nullable(Type.Object({ keys: Type.Array(IssuerJwk, { minItems: 1, maxItems: MAX_ISSUER_JWKS_KEYS }) }, { additionalProperties: false }), {
    description: 'Its public keys inline (a cluster’s JWKS, a SPIFFE bundle): nothing is fetched. Exclusive with jwks_uri',
  }),
);
const TokenReuse = stringEnum<TokenReusePolicy>(TOKEN_REUSE_POLICIES, {
  description: 'refuse: a token authenticates once (its jti); allow: for its lifetime (Kubernetes, SPIFFE tokens are reused)',
});
const MaxTokenLifetime = Type.Integer({
  minimum: MIN_TOKEN_LIFETIME_LIMIT_SECONDS,
  maximum: MAX_TOKEN_LIFETIME_LIMIT_SECONDS,
  description: 'The longest lifetime a token of this issuer may have to be accepted, in seconds',
});
const Shared = Type.Boolean({
  description: 'Many tenants share the issuer (GitHub Actions, GitLab.com): a subject prefix on it also needs a claim condition',
});

export const trustedIssuerResource = codec({
  issuer: field('issuer', Issuer),
  kind: field('kind', IssuerKind),
  jwks_uri: field('jwksUri', JwksUri),
  jwks: jwksField('jwks', IssuerJwks),
  token_reuse: field('tokenReuse', TokenReuse),
  max_token_lifetime_seconds: field('maxTokenLifetimeSeconds', MaxTokenLifetime),
  shared: field('isShared', Shared),
  created_at: time('createdAt'),
  updated_at: time('updatedAt'),
});
export type TrustedIssuerWire = Static<typeof trustedIssuerResource.schema>;

const changeable = {
  jwks_uri: optional('jwksUri', JwksUri),
  jwks: optional('jwks', IssuerJwks),
  token_reuse: optional('tokenReuse', TokenReuse),
  max_token_lifetime_seconds: optional('maxTokenLifetimeSeconds', MaxTokenLifetime),
  shared: optional('isShared', Shared),
};
export const addTrustedIssuer = codec({ issuer: field('issuer', Issuer), kind: optional('kind', IssuerKind), ...changeable });
export const updateTrustedIssuer = codec(changeable);
export type AddTrustedIssuerInput = RecordOf<typeof addTrustedIssuer.fields>;
export type UpdateTrustedIssuerInput = RecordOf<typeof updateTrustedIssuer.fields>;

export const TrustedIssuersQuery = ListQuery;
export const RemoveTrustedIssuerQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Also remove the federated credentials that name it (refused otherwise, 409)' })) },
  { additionalProperties: false },
);

const defaults = (pick: (kind: (typeof ISSUER_KIND_DEFAULTS)['oidc']) => unknown) =>
  TRUSTED_ISSUER_KINDS.map((kind) => `${kind} ${String(pick(ISSUER_KIND_DEFAULTS[kind]))}`).join(', ');

/** The config document's entry: the add request, matched by issuer, with the defaults apply gives. */
export const ConfigTrustedIssuer = Type.Object(
  {
    issuer: Issuer,
    kind: Type.Optional(withDescription(IssuerKind, 'Default oidc. Sets the defaults of token_reuse and max_token_lifetime_seconds.')),
    jwks_uri: Type.Optional(withDescription(JwksUri, 'Where its keys are fetched; default null: from its discovery document (required, or jwks, for spiffe).')),
    jwks: Type.Optional(withDescription(IssuerJwks, 'Its public keys inline (exclusive with jwks_uri): at most 100 RSA, EC or OKP public keys.')),
    token_reuse: Type.Optional(withDescription(TokenReuse, `Default by kind: ${defaults((kind) => kind.tokenReuse)}.`)),
    max_token_lifetime_seconds: Type.Optional(withDescription(MaxTokenLifetime, `Default by kind: ${defaults((kind) => kind.maxTokenLifetimeSeconds)}.`)),
    shared: Type.Optional(
      withDescription(Shared, 'Default: true for issuers every customer of a platform shares (GitHub Actions, GitLab.com, …), which cannot be set false.'),
    ),
  },
  { additionalProperties: false },
);
export type ConfigTrustedIssuer = Static<typeof ConfigTrustedIssuer>;
