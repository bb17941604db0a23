import { Type, type Static } from '@sinclair/typebox';
import { codec, field, listOf, mapped, optional, type RecordOf } from './fields.js';
import {
  AuthMethods,
  ConfigQuota,
  IntrospectApis,
  Jwks,
  jwksField,
  nullable,
  Quota,
  QuotaChange,
  quotaChangeFromWire,
  quotaChangeToWire,
  quotaFromWire,
  quotaToWire,
  time,
  withDescription,
} from './common.js';
import { clientSecretResource } from './client-secret.js';
import { ConfigFederatedCredential } from './federated-credential.js';
import { MAX_FEDERATED_CREDENTIALS_PER_CLIENT } from '../../federation/federation-rules.js';
import { MAX_DISTINGUISHED_NAME_CHARS } from '../../client-auth/distinguished-name.js';
import { MAX_TLS_SAN_DNS } from '../tls-client-registration.js';

/** A client: what it is on the wire, in a create or change request, and in the config document. */

const DpopBound = Type.Boolean({
  description: 'RFC 9449 §5.2: every token request of this client must carry a DPoP proof, so all its tokens are DPoP-bound. Default false.',
});

const TlsSubjectDn = Type.String({
  minLength: 1,
  maxLength: MAX_DISTINGUISHED_NAME_CHARS,
  description:
    'RFC 8705 §2.1.2: tls_client_auth accepts a certificate of a trusted CA with this subject, an RFC 4514 DN compared attribute by attribute (order kept, case and spacing ignored), e.g. CN=orders,O=Example',
});
const TlsSanDns = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
  maxItems: MAX_TLS_SAN_DNS,
  description: 'RFC 8705 §2.1.2: tls_client_auth accepts a certificate of a trusted CA naming one of these DNS names (subjectAltName dNSName, exact)',
});
const CertificateBound = Type.Boolean({
  description:
    'RFC 8705 §3.4: every token request of this client must present its TLS client certificate, and its tokens are bound to it (cnf x5t#S256). Default false.',
});

export const clientResource = codec({
  client_id: field('clientId', Type.String()),
  name: field('name', Type.String()),
  description: field('description', Type.String()),
  default_api: field('defaultApi', nullable(Type.String())),
  enabled: field('isEnabled', Type.Boolean()),
  grant_types: field('grantTypes', Type.Array(Type.String())),
  token_endpoint_auth_methods: field('tokenEndpointAuthMethods', AuthMethods),
  jwks: jwksField('jwks', Jwks),
  // Records leave it out when the client may introspect nothing; the wire always says [].
  introspect_apis: mapped('introspectApis', IntrospectApis, {
    encode: (apis: string[] | undefined) => apis ?? [],
    decode: (apis: string[]) => (apis.length > 0 ? apis : undefined),
  }),
  quota: mapped('quota', Quota, { encode: quotaToWire, decode: quotaFromWire }),
  // Records leave it out when false; the wire always says.
  dpop_bound_access_tokens: mapped('dpopBoundAccessTokens', DpopBound, {
    encode: (value: boolean | undefined) => value ?? false,
    decode: (value: boolean) => value || undefined,
  }),
  // Records leave them out when none; the wire always says (null, [], false).
  tls_client_auth_subject_dn: mapped('tlsClientAuthSubjectDn', nullable(TlsSubjectDn), {
    encode: (value: string | undefined) => value ?? null,
    decode: (value: string | null) => value ?? undefined,
  }),
  tls_client_auth_san_dns: mapped('tlsClientAuthSanDns', TlsSanDns, {
    encode: (value: string[] | undefined) => value ?? [],
    decode: (value: string[]) => (value.length > 0 ? value : undefined),
  }),
  tls_client_certificate_bound_access_tokens: mapped('tlsClientCertificateBoundAccessTokens', CertificateBound, {
    encode: (value: boolean | undefined) => value ?? false,
    decode: (value: boolean) => value || undefined,
  }),
  created_at: time('createdAt'),
  updated_at: time('updatedAt'),
});
export type ClientWire = Static<typeof clientResource.schema>;

const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Unique among clients: a name another client has is refused (409 conflict).' });
const changeable = {
  description: optional('description', Type.String({ maxLength: 1000 })),
  default_api: optional('defaultApi', nullable(Type.String({ maxLength: 512 }))),
  token_endpoint_auth_methods: optional('tokenEndpointAuthMethods', AuthMethods),
  jwks: optional('jwks', Jwks),
  introspect_apis: optional('introspectApis', IntrospectApis),
  quota: mapped('quota', Type.Optional(QuotaChange), { encode: quotaChangeToWire, decode: quotaChangeFromWire }),
  dpop_bound_access_tokens: optional('dpopBoundAccessTokens', DpopBound),
  // null (or []) removes it.
  tls_client_auth_subject_dn: optional('tlsClientAuthSubjectDn', nullable(TlsSubjectDn)),
  tls_client_auth_san_dns: optional('tlsClientAuthSanDns', TlsSanDns),
  tls_client_certificate_bound_access_tokens: optional('tlsClientCertificateBoundAccessTokens', CertificateBound),
};
export const createClient = codec({ name: field('name', Name), ...changeable });
export const updateClient = codec({
  name: optional('name', Name),
  description: changeable.description,
  default_api: changeable.default_api,
  enabled: optional('isEnabled', Type.Boolean()),
  token_endpoint_auth_methods: changeable.token_endpoint_auth_methods,
  jwks: changeable.jwks,
  introspect_apis: changeable.introspect_apis,
  quota: changeable.quota,
  dpop_bound_access_tokens: changeable.dpop_bound_access_tokens,
  tls_client_auth_subject_dn: changeable.tls_client_auth_subject_dn,
  tls_client_auth_san_dns: changeable.tls_client_auth_san_dns,
  tls_client_certificate_bound_access_tokens: changeable.tls_client_certificate_bound_access_tokens,
});
/** `isEnabled`: default true; a disabled client gets no tokens. Not part of the create request (the CLI and apply use it). */
export type CreateClientInput = RecordOf<typeof createClient.fields> & { isEnabled?: boolean };
export type UpdateClientInput = RecordOf<typeof updateClient.fields>;

/** The answer to a create: the client, and its first secret in this one answer (none for private_key_jwt-only clients). */
export const createdClientExtras = codec({
  client_secret: optional('clientSecret', Type.String({ description: 'Shown in this one answer only' })),
  secret: mapped('secret', Type.Optional(clientSecretResource.schema), {
    encode: (secret: RecordOf<typeof clientSecretResource.fields> | undefined) => (secret ? clientSecretResource.toWire(secret) : undefined),
    decode: (wire: Static<typeof clientSecretResource.schema> | undefined) => (wire ? clientSecretResource.fromWire(wire) : undefined),
  }),
});
export const CreatedClient = Type.Object({ ...clientResource.schema.properties, ...createdClientExtras.schema.properties }, { additionalProperties: false });

/** A client with its secrets (hints only). */
export const clientSecrets = codec({ secrets: listOf('secrets', clientSecretResource) });
export const ClientDetail = Type.Object({ ...clientResource.schema.properties, ...clientSecrets.schema.properties }, { additionalProperties: false });

/** The config document's entry: the create request, matched by client_id or name, with the defaults apply gives. */
export const ConfigClient = Type.Object(
  {
    client_id: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._~-]{1,128}$',
        description: "Matches the server's client; kept when the client is created. Without it the client is matched by name.",
      }),
    ),
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    default_api: Type.Optional(
      nullable(Type.String(), { description: 'Identifier of an API of the document (or urn:m2m-auth:admin), used when a token request names no audience.' }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'Default true.' })),
    token_endpoint_auth_methods: Type.Optional(
      withDescription(AuthMethods, 'Default: private_key_jwt with jwks, else client_secret_basic and client_secret_post.'),
    ),
    jwks: Type.Optional(withDescription(Jwks, 'Public JWK Set for private_key_jwt: flat RSA, EC or OKP public keys, at most 20.')),
    introspect_apis: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Identifiers of APIs of the document (or "*" for all) whose tokens this client may introspect (RFC 7662). Default: none.',
      }),
    ),
    quota: Type.Optional(ConfigQuota),
    federated_credentials: Type.Optional(
      Type.Array(ConfigFederatedCredential, {
        maxItems: MAX_FEDERATED_CREDENTIALS_PER_CLIENT,
        description:
          'Tokens of trusted issuers of the document that authenticate as this client (workload identity federation), each matched by issuer, subject and subject_match. Default: none.',
      }),
    ),
    dpop_bound_access_tokens: Type.Optional(DpopBound),
    tls_client_auth_subject_dn: Type.Optional(nullable(TlsSubjectDn)),
    tls_client_auth_san_dns: Type.Optional(TlsSanDns),
    tls_client_certificate_bound_access_tokens: Type.Optional(CertificateBound),
  },
  { additionalProperties: false },
);
export type ConfigClient = Static<typeof ConfigClient>;
