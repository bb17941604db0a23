import type { ApiRecord, RegisteredClient, RegisteredGrant } from '../storage/types.js';
import type { KeyRing } from '../keys/key-ring.js';
import { invalidRequest, invalidScope, invalidTarget } from '../errors/oauth-error.js';
import type { FormParams } from '../protocol/form-params.js';
import { echo } from '../errors/echo.js';
import type { TokenIssuer } from '../tokens/token-issuer.js';
import { parseScopeParameter } from './scope.js';
import type { GrantType } from './grant-type.js';

/** The reads the grant needs: the audience, the client's grant on it, the keys to sign with. */
export interface GrantDirectory {
  api(identifier: string): Promise<ApiRecord | undefined>;
  grant(clientId: string, apiIdentifier: string): Promise<RegisteredGrant | undefined>;
  keyRing(): Promise<KeyRing>;
}

export interface ClientCredentialsDeps {
  issuer: string;
  registry: GrantDirectory;
  /** Makes the token in its API's format (JWT or opaque). */
  tokens: TokenIssuer;
  /** A ceiling on token lifetime per audience (the admin API's): whatever a stored grant says. */
  maxTtlSeconds?: (audience: string) => number | undefined;
}

const ENTRA_DEFAULT_SUFFIX = '/.default';

/** RFC 6749 §4.4 with Auth0 `audience`, RFC 8707 `resource` and Entra `<api>/.default`. */
export function createClientCredentialsGrant(deps: ClientCredentialsDeps): GrantType {
  return {
    grantType: 'client_credentials',
    parameters: ['scope', 'audience', 'resource'],
    async handle(client, params) {
      const request = readTokenRequest(params);
      const api = await resolveApi(deps, client, request.audience);
      const grant = await deps.registry.grant(client.clientId, api.identifier);
      if (!grant) throw invalidTarget(`This client has no grant for the API ${api.identifier}.`);
      const scopes = resolveScopes(api, grant.scopes, request.scopes);
      const token = await deps.tokens.issue(api, {
        issuer: deps.issuer,
        clientId: client.clientId,
        audience: api.identifier,
        scopes,
        ttlSeconds: Math.min(grant.tokenTtlSeconds ?? api.tokenTtlSeconds, deps.maxTtlSeconds?.(api.identifier) ?? Infinity),
      });
      return { token, audience: api.identifier, scopes };
    },
  };
}

/** The audience and scopes the request names, from whichever convention the caller used. */
export function readTokenRequest(params: FormParams): { audience: string | undefined; scopes: string[] | undefined } {
  const audience = params.get('audience');
  const resource = params.get('resource');
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    throw invalidRequest('audience and resource name different APIs; send one of them.');
  }
  if (resource !== undefined && !isAbsoluteUriWithoutFragment(resource)) {
    throw invalidTarget('resource must be an absolute URI without a fragment (RFC 8707).');
  }
  let target = audience ?? resource;
  let scopes = parseScopeParameter(params.get('scope'));
  const defaults = scopes?.filter((scope) => scope.endsWith(ENTRA_DEFAULT_SUFFIX)) ?? [];
  if (defaults.length > 0) {
    if (defaults.length > 1 || scopes!.length > 1) {
      throw invalidScope('A <api>/.default scope must be the only scope requested.');
    }
    const fromScope = defaults[0]!.slice(0, -ENTRA_DEFAULT_SUFFIX.length);
    if (target !== undefined && target !== fromScope) {
      throw invalidScope('The /.default scope names a different API than audience/resource.');
    }
    target = fromScope;
    scopes = undefined;
  }
  return { audience: target, scopes };
}

export async function resolveApi(deps: Pick<ClientCredentialsDeps, 'registry'>, client: RegisteredClient, audience: string | undefined): Promise<ApiRecord> {
  const identifier = audience ?? client.defaultApi;
  if (identifier === undefined || identifier === null) {
    throw invalidRequest('No audience: send audience (or resource, or scope=<api>/.default), or give the client a default API.');
  }
  const api = await deps.registry.api(identifier);
  if (!api) throw invalidTarget(`Unknown API: ${echo(identifier)}.`);
  return api;
}

/** Without a requested scope, everything granted; otherwise exactly what was asked, never more. */
function resolveScopes(api: ApiRecord, granted: readonly string[], requested: string[] | undefined): string[] {
  const defined = new Set(api.scopes.map((scope) => scope.value));
  const allowed = granted.filter((scope) => defined.has(scope));
  if (requested === undefined) return allowed;
  for (const scope of requested) {
    if (!defined.has(scope)) throw invalidScope(`The scope ${echo(scope)} is not defined on ${api.identifier}.`);
    if (!allowed.includes(scope)) throw invalidScope(`The scope ${echo(scope)} is not granted to this client.`);
  }
  return requested;
}

function isAbsoluteUriWithoutFragment(value: string): boolean {
  if (value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}
