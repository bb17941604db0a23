import type { ClientGrantRecord, ClientRecord, RegistryStores, TrustedIssuerRecord } from '../storage/types.js';
import { AdminError } from '../errors/admin-error.js';
import { ADMIN_API_IDENTIFIER, INTROSPECTION_WRITE_SCOPE } from './built-in-admin-api.js';
import type { AdminCaller } from './admin-context.js';
import type { TlsRegistrationFields } from './tls-client-registration.js';

/**
 * Least privilege of the admin plane: nobody confers what they do not hold. A route's own scope
 * (`grants:write`, `clients:write`) says which kind of write a caller may make; these rules say
 * which of those writes would hand out more than the caller has, and what it must hold to make them:
 *
 * - a grant on the admin API (create, update, delete): every admin scope the grant holds, before
 *   and after the change;
 * - a credential of a client (a new or rotated secret, its JWKS or its authentication methods, the
 *   certificate subject or DNS names it is known by, certificate-bound tokens turned off,
 *   enabling it, deleting it with its grants): every admin scope that client holds, and
 *   `introspection:write` when it may introspect — whoever controls the credential acts as it;
 * - disabling a client: every admin scope it holds, as deleting it does — otherwise a lesser admin
 *   could lock the greater ones out of the admin plane;
 * - a client's introspection permission (set, changed or removed): `introspection:write`;
 * - a federated credential of a client (added or removed) is a credential of it, as above;
 * - a trusted issuer's keys or checks, changed so that more tokens pass (new keys, a longer lifetime,
 *   reuse allowed, no longer shared), or removed with its credentials: what every client with a
 *   credential of that issuer holds — whoever controls the issuer's keys acts as those clients.
 *
 * Every write path (the operations, apply and its plan) asks these functions, so no path is a
 * bypass. The local operator (CLI, `caller` undefined) owns the database and is not limited.
 */

/** The admin scopes a grant holds; none for a grant on any other API. */
export function adminScopesOf(grant: Pick<ClientGrantRecord, 'apiIdentifier' | 'scopes'> | undefined): string[] {
  return grant?.apiIdentifier === ADMIN_API_IDENTIFIER ? [...grant.scopes] : [];
}

/** What changing a grant (either side absent for create/delete) needs. */
export function grantChangeNeeds(...sides: (Pick<ClientGrantRecord, 'apiIdentifier' | 'scopes'> | undefined)[]): string[] {
  return [...new Set(sides.flatMap(adminScopesOf))];
}

/** What acting as `client` is worth: its admin scopes, and its introspection permission. */
export function credentialChangeNeeds(
  client: Pick<ClientRecord, 'introspectApis'>,
  adminGrant: Pick<ClientGrantRecord, 'apiIdentifier' | 'scopes'> | undefined,
): string[] {
  return [...adminScopesOf(adminGrant), ...((client.introspectApis ?? []).length > 0 ? [INTROSPECTION_WRITE_SCOPE] : [])];
}

/** What of a client says who may act as it (null or absent: none). */
export type ClientCredentialFields = Pick<ClientRecord, 'isEnabled'> & TlsRegistrationFields;

/**
 * The client fields a patch changes that amount to a new way of acting as the client: its methods
 * and keys, the certificate subject or DNS names a CA's certificate is matched by (RFC 8705
 * §2.1), enabling it, and dropping certificate-bound tokens (a stolen token of it then works
 * without the certificate's key).
 */
export function changesCredentials(before: ClientRecord, after: ClientCredentialFields): boolean {
  return (
    JSON.stringify(before.tokenEndpointAuthMethods) !== JSON.stringify(after.tokenEndpointAuthMethods) ||
    JSON.stringify(before.jwks) !== JSON.stringify(after.jwks) ||
    (!before.isEnabled && after.isEnabled) ||
    (before.tlsClientAuthSubjectDn ?? null) !== (after.tlsClientAuthSubjectDn ?? null) ||
    JSON.stringify(before.tlsClientAuthSanDns ?? []) !== JSON.stringify(after.tlsClientAuthSanDns ?? []) ||
    (Boolean(before.tlsClientCertificateBoundAccessTokens) && !after.tlsClientCertificateBoundAccessTokens)
  );
}

export function changesIntrospection(before: readonly string[] | undefined, after: readonly string[] | undefined): boolean {
  return JSON.stringify([...(before ?? [])].sort()) !== JSON.stringify([...(after ?? [])].sort());
}

/** What an update of `before` into `after` needs, given the client's grant on the admin API. */
export function clientUpdateNeeds(
  before: ClientRecord,
  after: ClientCredentialFields & { introspectApis?: string[] | undefined },
  adminGrant: ClientGrantRecord | undefined,
): string[] {
  return [
    ...(changesCredentials(before, after) ? credentialChangeNeeds(before, adminGrant) : []),
    ...(before.isEnabled && !after.isEnabled ? adminScopesOf(adminGrant) : []),
    ...(changesIntrospection(before.introspectApis, after.introspectApis) ? [INTROSPECTION_WRITE_SCOPE] : []),
  ];
}

/** Whether a change of an issuer lets more tokens through: new keys, or a looser check. */
export function widensIssuerTrust(
  before: Pick<TrustedIssuerRecord, 'jwks' | 'jwksUri' | 'tokenReuse' | 'maxTokenLifetimeSeconds' | 'isShared'>,
  after: Pick<TrustedIssuerRecord, 'jwks' | 'jwksUri' | 'tokenReuse' | 'maxTokenLifetimeSeconds' | 'isShared'>,
): boolean {
  return (
    JSON.stringify(before.jwks) !== JSON.stringify(after.jwks) ||
    before.jwksUri !== after.jwksUri ||
    (before.tokenReuse === 'refuse' && after.tokenReuse === 'allow') ||
    after.maxTokenLifetimeSeconds > before.maxTokenLifetimeSeconds ||
    (before.isShared && !after.isShared)
  );
}

/** What acting as every client named here is worth: the union of what each holds (missing clients hold nothing). */
export async function clientsNeeds(store: Pick<RegistryStores, 'getClient' | 'findGrant'>, clientIds: Iterable<string>): Promise<string[]> {
  const needs = new Set<string>();
  for (const clientId of new Set(clientIds)) {
    const client = await store.getClient(clientId);
    if (client) for (const scope of credentialChangeNeeds(client, await findAdminGrant(store, clientId))) needs.add(scope);
  }
  return [...needs];
}

/** Throws 403 naming every admin scope the caller lacks for `what`; the local operator passes. */
export function requireCallerScopes(
  caller: AdminCaller | undefined,
  needed: readonly string[],
  what: string,
  why = 'an admin client cannot confer what it does not hold',
): void {
  if (!caller) return;
  const missing = [...new Set(needed)].filter((scope) => !caller.scopes.has(scope)).sort();
  if (missing.length === 0) return;
  throw new AdminError(
    'insufficient_scope',
    `${what} needs the admin scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} on ${ADMIN_API_IDENTIFIER}: ${why}`,
    undefined,
    { required_scopes: missing },
  );
}

export const findAdminGrant = (store: Pick<RegistryStores, 'findGrant'>, clientId: string) => store.findGrant(clientId, ADMIN_API_IDENTIFIER);
