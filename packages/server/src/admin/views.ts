import type { ApiRecord, ClientGrantRecord, ClientRecord } from '../storage/types.js';
import type { ClientSecretSummary, SigningKeySummary } from './admin.js';
import type { ClientSecretDetails } from './client-secrets.js';

/**
 * The external (JSON) shape of admin records: snake_case like OAuth and the Auth0/Keycloak
 * management APIs, ISO-8601 times. Used by `--json` output and the admin API alike.
 */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const apiView = (api: ApiRecord) => ({
  identifier: api.identifier,
  name: api.name,
  scopes: api.scopes,
  signing_alg: api.signingAlg,
  token_ttl_seconds: api.tokenTtlSeconds,
  created_at: iso(api.createdAt),
  updated_at: iso(api.updatedAt),
});

export const clientView = (client: ClientRecord) => ({
  client_id: client.clientId,
  name: client.name,
  description: client.description,
  default_api: client.defaultApi,
  enabled: client.isEnabled,
  grant_types: client.grantTypes,
  token_endpoint_auth_methods: client.tokenEndpointAuthMethods,
  jwks: client.jwks,
  introspect_apis: client.introspectApis ?? [],
  created_at: iso(client.createdAt),
  updated_at: iso(client.updatedAt),
});

export const secretView = (secret: ClientSecretSummary) => ({
  id: secret.id,
  hint: `…${secret.hint}`,
  created_at: iso(secret.createdAt),
  expires_at: iso(secret.expiresAt),
});

export const secretDetailsView = (secret: ClientSecretDetails) => ({
  ...secretView(secret),
  last_used_at: iso(secret.lastUsedAt),
});

export const grantView = (grant: ClientGrantRecord) => ({
  id: grant.id,
  client_id: grant.clientId,
  api: grant.apiIdentifier,
  scopes: grant.scopes,
  token_ttl_seconds: grant.tokenTtlSeconds,
  created_at: iso(grant.createdAt),
  updated_at: iso(grant.updatedAt),
});

export const keyView = (key: SigningKeySummary) => ({
  kid: key.kid,
  alg: key.alg,
  status: key.status,
  api: key.apiIdentifier,
  created_at: iso(key.createdAt),
  rotated_at: iso(key.rotatedAt),
});
