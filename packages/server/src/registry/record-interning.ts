import type { ClientGrantRecord, ClientRecord, ClientSecretRecord, RegisteredClient, RegisteredGrant, RegisteredSecret } from '../storage/types.js';

/**
 * Records as the registry cache keeps them: only what the request path reads, sharing what repeats
 * across clients. Every record read from the database arrives with its own copy of the same
 * identifiers and lists; at 100,000 cached clients those copies and the unread fields were most
 * of the cache's memory. Shared lists are frozen, since one array now belongs to many records.
 *
 * The pool is bounded: values that turn out not to repeat (a flood of distinct scope lists) are
 * forgotten when it fills, so interning may miss a share but never grows without bound.
 */
export interface RecordInterning {
  client(record: ClientRecord): RegisteredClient;
  secrets(records: ClientSecretRecord[]): RegisteredSecret[];
  grant(record: ClientGrantRecord): RegisteredGrant;
}

const DEFAULT_POOL_SIZE = 10_000;

export function createRecordInterning(poolSize = DEFAULT_POOL_SIZE): RecordInterning {
  const strings = new Map<string, string>();
  const lists = new Map<string, readonly string[]>();

  function intern<T>(pool: Map<string, T>, key: string, value: T): T {
    const known = pool.get(key);
    if (known !== undefined) return known;
    if (pool.size >= poolSize) pool.clear();
    pool.set(key, value);
    return value;
  }
  const string = <S extends string | null>(value: S): S => (value === null ? value : (intern(strings, value, value) as S));
  // NUL joins the members: no scope, method or identifier holds one (RFC 6749 §3.3 scope-token syntax).
  const list = <S extends string>(value: readonly S[]): S[] => intern(lists, value.join('\u0000'), Object.freeze(value.map(string))) as S[];

  return {
    client: (record) => ({
      clientId: record.clientId,
      isEnabled: record.isEnabled,
      defaultApi: string(record.defaultApi),
      grantTypes: list(record.grantTypes),
      tokenEndpointAuthMethods: list(record.tokenEndpointAuthMethods),
      jwks: record.jwks,
      ...(record.introspectApis ? { introspectApis: list(record.introspectApis) } : {}),
      ...(record.quota ? { quota: record.quota } : {}),
      ...(record.dpopBoundAccessTokens ? { dpopBoundAccessTokens: true } : {}),
      ...(record.tlsClientAuthSubjectDn ? { tlsClientAuthSubjectDn: record.tlsClientAuthSubjectDn } : {}),
      ...(record.tlsClientAuthSanDns ? { tlsClientAuthSanDns: list(record.tlsClientAuthSanDns) } : {}),
      ...(record.tlsClientCertificateBoundAccessTokens ? { tlsClientCertificateBoundAccessTokens: true } : {}),
    }),
    secrets: (records) => records.map((secret) => ({ id: secret.id, hash: secret.hash, expiresAt: secret.expiresAt })),
    grant: (record) => ({ scopes: list(record.scopes), tokenTtlSeconds: record.tokenTtlSeconds }),
  };
}
