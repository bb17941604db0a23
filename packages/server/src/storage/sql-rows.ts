import type {
  ApiRecord,
  AuditEventRecord,
  ClientGrantRecord,
  ClientRecord,
  ClientSecretRecord,
  ExchangePolicyRecord,
  FederatedCredentialRecord,
  SigningKeyRecord,
  TrustedIssuerRecord,
} from './types.js';

export type Row = Record<string, unknown>;

/** How a SQL driver hands back what the two SQL schemas store differently. */
export interface ColumnDecoders {
  /** A JSON column's value (SQLite: text to parse; PostgreSQL jsonb: already parsed). Never called with null. */
  json<T>(value: unknown): T;
  /** SQLite has no boolean: 0/1. */
  bool(value: unknown): boolean;
}

/** Rows of the SQL adapters (same column names in SQLite and PostgreSQL) as contract records. */
export function createRowMappers({ json, bool }: ColumnDecoders) {
  const jsonOrNull = <T>(value: unknown): T | null => (value === null ? null : json<T>(value));
  return {
    api: (row: Row): ApiRecord => ({
      identifier: row.identifier as string,
      name: row.name as string,
      scopes: json(row.scopes),
      signingAlg: row.signing_alg as ApiRecord['signingAlg'],
      tokenTtlSeconds: row.token_ttl_seconds as number,
      tokenFormat: row.token_format as ApiRecord['tokenFormat'],
      ...(bool(row.require_sender_constrained) ? { requireSenderConstrained: true } : {}),
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    }),
    client: (row: Row): ClientRecord => ({
      clientId: row.client_id as string,
      name: row.name as string,
      description: row.description as string,
      defaultApi: row.default_api as string | null,
      isEnabled: bool(row.is_enabled),
      grantTypes: json(row.grant_types),
      tokenEndpointAuthMethods: json(row.token_endpoint_auth_methods),
      jwks: jsonOrNull(row.jwks),
      // Absent, not empty, when the client may introspect nothing (lifecycle contract).
      ...(row.introspect_apis ? { introspectApis: json<string[]>(row.introspect_apis) } : {}),
      ...(row.quota ? { quota: json<ClientRecord['quota']>(row.quota) } : {}),
      ...(bool(row.dpop_bound_access_tokens) ? { dpopBoundAccessTokens: true } : {}),
      ...(row.tls_client_auth_subject_dn ? { tlsClientAuthSubjectDn: row.tls_client_auth_subject_dn as string } : {}),
      ...(row.tls_client_auth_san_dns ? { tlsClientAuthSanDns: json<string[]>(row.tls_client_auth_san_dns) } : {}),
      ...(bool(row.tls_client_certificate_bound_access_tokens) ? { tlsClientCertificateBoundAccessTokens: true } : {}),
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    }),
    secret: (row: Row): ClientSecretRecord => ({
      id: row.id as string,
      clientId: row.client_id as string,
      hash: row.hash as string,
      hint: row.hint as string,
      createdAt: row.created_at as number,
      expiresAt: row.expires_at as number | null,
    }),
    grant: (row: Row): ClientGrantRecord => ({
      id: row.id as string,
      clientId: row.client_id as string,
      apiIdentifier: row.api_identifier as string,
      scopes: json(row.scopes),
      tokenTtlSeconds: row.token_ttl_seconds as number | null,
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    }),
    key: (row: Row): SigningKeyRecord => ({
      kid: row.kid as string,
      alg: row.alg as SigningKeyRecord['alg'],
      status: row.status as SigningKeyRecord['status'],
      encryptedPrivateKey: row.encrypted_private_key as string,
      publicJwk: jsonOrNull(row.public_jwk),
      apiIdentifier: row.api_identifier as string | null,
      createdAt: row.created_at as number,
      rotatedAt: row.rotated_at as number | null,
    }),
    trustedIssuer: (row: Row): TrustedIssuerRecord => ({
      issuer: row.issuer as string,
      kind: row.kind as TrustedIssuerRecord['kind'],
      jwksUri: row.jwks_uri as string | null,
      jwks: jsonOrNull(row.jwks),
      tokenReuse: row.token_reuse as TrustedIssuerRecord['tokenReuse'],
      maxTokenLifetimeSeconds: row.max_token_lifetime_seconds as number,
      isShared: bool(row.is_shared),
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
    }),
    federatedCredential: (row: Row): FederatedCredentialRecord => ({
      id: row.id as string,
      clientId: row.client_id as string,
      issuer: row.issuer as string,
      subject: row.subject as string,
      subjectMatch: row.subject_match as FederatedCredentialRecord['subjectMatch'],
      audiences: json(row.audiences),
      claims: json(row.claims),
      description: row.description as string,
      createdAt: row.created_at as number,
    }),
    exchangePolicy: (row: Row): ExchangePolicyRecord => ({
      id: row.id as string,
      clientId: row.client_id as string,
      subjectClientId: row.subject_client_id as string | null,
      subjectIssuer: row.subject_issuer as string | null,
      apiIdentifier: row.api_identifier as string,
      scopes: jsonOrNull(row.scopes),
      description: row.description as string,
      createdAt: row.created_at as number,
    }),
    auditEvent: (row: Row): AuditEventRecord => ({
      id: row.id as string,
      at: row.at as number,
      type: row.type as string,
      actor: row.actor as string,
      data: json(row.data),
    }),
  };
}
