import type { ApiRecord, ApiScope } from '../storage/types.js';

/**
 * The API that m2m-auth's own admin endpoints belong to. Admin clients are ordinary clients with
 * grants on it, so least privilege works as for any API: a CI job that only creates grants is
 * granted `grants:write` and nothing else — and cannot use it to confer admin scopes it lacks
 * (admin-authority.ts).
 */
export const ADMIN_API_IDENTIFIER = 'urn:m2m-auth:admin';
export const RESERVED_IDENTIFIER_PREFIX = 'urn:m2m-auth:';
/**
 * Admin tokens are short-lived: the client SDK refreshes them ahead of expiry anyway. It is also
 * the most an admin token may live (a server may lower it, never raise it): a leaked admin token
 * that nobody revokes is useful for minutes, not a day.
 */
export const ADMIN_TOKEN_TTL_SECONDS = 300;

/** URNs compare their `urn` and namespace case-insensitively (RFC 8141 §3.1): so does the reservation. */
export function isReservedIdentifier(identifier: string): boolean {
  return identifier.slice(0, RESERVED_IDENTIFIER_PREFIX.length).toLowerCase() === RESERVED_IDENTIFIER_PREFIX;
}

/** The dedicated scope for giving a client permission to introspect other clients' tokens. */
export const INTROSPECTION_WRITE_SCOPE = 'introspection:write';
/** Trusted issuers (workload identity federation); a client's federated credentials are clients:*. */
export const ISSUERS_READ_SCOPE = 'issuers:read';
export const ISSUERS_WRITE_SCOPE = 'issuers:write';
/**
 * Token-exchange policies: their own scopes, not grants:write. A policy lets a client act on behalf
 * of the clients whose tokens it receives (its tokens name them as `sub`), a different power from
 * a grant's scopes, which a job that manages grants need not hold. It confers no scope: the
 * exchanging client still needs its own grant on the API, and the admin API is never a target.
 */
export const EXCHANGE_POLICIES_READ_SCOPE = 'exchange-policies:read';
export const EXCHANGE_POLICIES_WRITE_SCOPE = 'exchange-policies:write';
/** The console's overview page: this instance's recent token activity and health (key ages also need keys:read). */
export const OVERVIEW_READ_SCOPE = 'overview:read';
/** The console's token inspector: whether a pasted token was issued here, is revoked, expired, active. */
export const TOKENS_INSPECT_SCOPE = 'tokens:inspect';

export const ADMIN_SCOPES: readonly ApiScope[] = [
  { value: 'apis:read', description: 'Read APIs and their scopes' },
  { value: 'apis:write', description: 'Create, change and delete APIs' },
  // Descriptions of existing scopes stay as stored databases have them (an upgrade adds scopes, never rewrites one).
  { value: 'clients:read', description: 'Read clients and secret hints' },
  {
    value: 'clients:write',
    description: 'Create, change and delete clients; issue and rotate secrets (of a client holding admin scopes: only with those scopes too)',
  },
  { value: 'grants:read', description: 'Read client grants' },
  { value: 'grants:write', description: 'Create, change and delete client grants (on the admin API: only with the admin scopes they hold)' },
  { value: 'keys:read', description: 'Read signing keys (public parts and status)' },
  { value: 'keys:write', description: 'Rotate and retire signing keys' },
  { value: 'audit:read', description: 'Read the audit log' },
  { value: INTROSPECTION_WRITE_SCOPE, description: "Set which APIs' tokens a client may introspect (with clients:write)" },
  { value: ISSUERS_READ_SCOPE, description: 'Read trusted issuers (workload identity federation)' },
  {
    value: ISSUERS_WRITE_SCOPE,
    description:
      'Add, change and remove trusted issuers (changing the keys or checks of one that a client holding admin scopes trusts: only with those scopes too)',
  },
  { value: 'usage:read', description: 'Read token usage per client and API (hourly and daily counts)' },
  { value: EXCHANGE_POLICIES_READ_SCOPE, description: 'Read token-exchange policies' },
  {
    value: EXCHANGE_POLICIES_WRITE_SCOPE,
    description: 'Add and remove token-exchange policies (which client may exchange whose tokens for which API; never for the admin API)',
  },
  { value: OVERVIEW_READ_SCOPE, description: 'Read the overview: recent token activity of the instance, failures, busiest clients, health' },
  { value: TOKENS_INSPECT_SCOPE, description: 'Inspect a token: whether this server issued it, its signature, and whether it is revoked, expired or active' },
];

export type AdminScope =
  | 'apis:read'
  | 'apis:write'
  | 'clients:read'
  | 'clients:write'
  | 'grants:read'
  | 'grants:write'
  | 'keys:read'
  | 'keys:write'
  | 'audit:read'
  | typeof INTROSPECTION_WRITE_SCOPE
  | typeof ISSUERS_READ_SCOPE
  | typeof ISSUERS_WRITE_SCOPE
  | 'usage:read'
  | typeof EXCHANGE_POLICIES_READ_SCOPE
  | typeof EXCHANGE_POLICIES_WRITE_SCOPE
  | typeof OVERVIEW_READ_SCOPE
  | typeof TOKENS_INSPECT_SCOPE;

/** The built-in API as first created (by bootstrap, or by an apply whose document refers to it). */
export function builtInAdminApi(at: number): ApiRecord {
  return {
    identifier: ADMIN_API_IDENTIFIER,
    name: 'm2m-auth admin API',
    scopes: [...ADMIN_SCOPES],
    signingAlg: 'RS256',
    tokenTtlSeconds: ADMIN_TOKEN_TTL_SECONDS,
    tokenFormat: 'jwt',
    createdAt: at,
    updatedAt: at,
  };
}
