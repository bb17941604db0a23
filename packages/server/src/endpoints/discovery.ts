import { JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE } from '../federation/federation-rules.js';
import type { ApiRecord } from '../storage/types.js';
import { DPOP_SIGNING_ALGORITHMS } from '../sender-constraint/token-endpoint-dpop.js';
import { INTROSPECTION_SIGNING_ALGS } from './introspection-response.js';

export interface ServerEndpoints {
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  introspectionEndpoint: string;
  revocationEndpoint: string;
}

export const TOKEN_PATH = '/oauth/token';
export const INTROSPECTION_PATH = '/oauth/introspect';
export const REVOCATION_PATH = '/oauth/revoke';
export const JWKS_PATH = '/.well-known/jwks.json';

export function serverEndpoints(issuer: string): ServerEndpoints {
  const base = issuer.replace(/\/+$/, '');
  return {
    issuer,
    tokenEndpoint: `${base}${TOKEN_PATH}`,
    jwksUri: `${base}${JWKS_PATH}`,
    introspectionEndpoint: `${base}${INTROSPECTION_PATH}`,
    revocationEndpoint: `${base}${REVOCATION_PATH}`,
  };
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
/** RFC 8705 §2: advertised only where mutual TLS is on, so no client tries a method the server cannot check. */
const MUTUAL_TLS_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'];

/** What discovery says of mutual TLS when it is on: the endpoints of its own listener, when it has one. */
export interface MutualTlsMetadata {
  aliases?: ServerEndpoints;
}
const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/**
 * Not an RFC 8414 member (none exists yet): which client_assertion_type values the token endpoint
 * takes, so a workload can tell a server that accepts SPIFFE JWT-SVIDs and platform tokens.
 */
const ASSERTION_TYPES = [JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE];

/** RFC 8414 metadata, rendered once per change of the API list (scopes_supported lists every API scope). */
export function renderDiscoveryDocument(
  endpoints: ServerEndpoints,
  apis: readonly ApiRecord[],
  grantTypes: readonly string[] = ['client_credentials'],
  mutualTls?: MutualTlsMetadata,
): string {
  const scopes = [...new Set(apis.flatMap((api) => api.scopes.map((scope) => scope.value)))].sort();
  const authMethods = mutualTls ? [...AUTH_METHODS, ...MUTUAL_TLS_AUTH_METHODS] : AUTH_METHODS;
  return JSON.stringify({
    issuer: endpoints.issuer,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    introspection_endpoint: endpoints.introspectionEndpoint,
    grant_types_supported: grantTypes,
    response_types_supported: [],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    client_assertion_types_supported: ASSERTION_TYPES,
    introspection_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    // RFC 9701 §6: the algorithms of signed introspection answers (Accept: application/token-introspection+jwt).
    introspection_signing_alg_values_supported: INTROSPECTION_SIGNING_ALGS,
    revocation_endpoint: endpoints.revocationEndpoint,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: scopes,
    resource_indicators_supported: true,
    dpop_signing_alg_values_supported: DPOP_SIGNING_ALGORITHMS,
    ...(mutualTls ? { tls_client_certificate_bound_access_tokens: true } : {}),
    // RFC 8705 §5: where a client that authenticates or binds with its certificate sends its requests.
    ...(mutualTls?.aliases
      ? {
          mtls_endpoint_aliases: {
            token_endpoint: mutualTls.aliases.tokenEndpoint,
            introspection_endpoint: mutualTls.aliases.introspectionEndpoint,
            revocation_endpoint: mutualTls.aliases.revocationEndpoint,
          },
        }
      : {}),
  });
}
