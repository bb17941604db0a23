import type { ApiRecord, ClientGrantRecord, ClientRecord } from '../storage/types.js';
import type { ClientSecretSummary } from './clients.js';
import type { SigningKeySummary } from './keys.js';
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

/*
 * The inverse of each view, for the remote admin client: the CLI talks to a server through the
 * admin API and gets back the same records a local Admin returns, so every command prints the
 * same output local or remote.
 */
const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));

export const apiFromView = (view: ReturnType<typeof apiView>): ApiRecord => ({
  identifier: view.identifier,
  name: view.name,
  scopes: view.scopes,
  signingAlg: view.signing_alg,
  tokenTtlSeconds: view.token_ttl_seconds,
  createdAt: ms(view.created_at)!,
  updatedAt: ms(view.updated_at)!,
});

export const clientFromView = (view: ReturnType<typeof clientView>): ClientRecord => ({
  clientId: view.client_id,
  name: view.name,
  description: view.description,
  defaultApi: view.default_api,
  isEnabled: view.enabled,
  grantTypes: view.grant_types,
  tokenEndpointAuthMethods: view.token_endpoint_auth_methods,
  jwks: view.jwks,
  ...(view.introspect_apis?.length ? { introspectApis: view.introspect_apis } : {}),
  createdAt: ms(view.created_at)!,
  updatedAt: ms(view.updated_at)!,
});

export const secretFromView = (view: ReturnType<typeof secretView>): ClientSecretSummary => ({
  id: view.id,
  hint: view.hint.replace(/^…/, ''),
  createdAt: ms(view.created_at)!,
  expiresAt: ms(view.expires_at),
});

export const secretDetailsFromView = (view: ReturnType<typeof secretDetailsView>): ClientSecretDetails => ({
  ...secretFromView(view),
  lastUsedAt: ms(view.last_used_at ?? null),
});

export const grantFromView = (view: ReturnType<typeof grantView>): ClientGrantRecord => ({
  id: view.id,
  clientId: view.client_id,
  apiIdentifier: view.api,
  scopes: view.scopes,
  tokenTtlSeconds: view.token_ttl_seconds,
  createdAt: ms(view.created_at)!,
  updatedAt: ms(view.updated_at)!,
});

export const keyFromView = (view: ReturnType<typeof keyView>): SigningKeySummary => ({
  kid: view.kid,
  alg: view.alg,
  status: view.status,
  apiIdentifier: view.api,
  createdAt: ms(view.created_at)!,
  rotatedAt: ms(view.rotated_at),
});
